import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** The producer app's Prometheus metrics, in a registry of its own (several apps can share a process). */
export interface ProducerMetrics {
  registry: Registry
  httpRequests: Counter<'method' | 'route' | 'status'>
  recordsSent: Counter<'topic'>
  sendDuration: Histogram<'outcome'>
  produceRequests: Counter
  sendsPerRequest: Histogram
  sendsWaiting: Gauge
}

export function createProducerMetrics(): ProducerMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    httpRequests: new Counter({
      name: 'lagscale_producer_http_requests_total',
      help: 'HTTP requests answered, by method, route and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry]
    }),
    recordsSent: new Counter({
      name: 'lagscale_producer_records_sent_total',
      help: 'Records the brokers acknowledged (acks=all)',
      labelNames: ['topic'],
      registers: [registry]
    }),
    sendDuration: new Histogram({
      name: 'lagscale_producer_send_duration_seconds',
      help: 'Time from the first record of a request to the acknowledgement of its last, by outcome (ok, error)',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry]
    }),
    produceRequests: new Counter({
      name: 'lagscale_producer_produce_requests_total',
      help: 'Produce requests sent to Kafka; concurrent HTTP requests share them',
      registers: [registry]
    }),
    sendsPerRequest: new Histogram({
      name: 'lagscale_producer_sends_per_produce_request',
      help: 'Sends (a request, or one batch of a large one) combined into one produce request',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry]
    }),
    sendsWaiting: new Gauge({
      name: 'lagscale_producer_sends_waiting',
      help: 'Sends waiting behind the produce request in flight',
      registers: [registry]
    })
  }
}
