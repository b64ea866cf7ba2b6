import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** One registry per worker, so several workers can run in one process (tests). */
export interface WorkerMetrics {
  registry: Registry
  processed: Counter<'outcome'>
  retries: Counter
  skipped: Counter
  processingSeconds: Histogram<'outcome'>
  assigned: Gauge<'topic' | 'partition'>
  lag: Gauge<'topic' | 'partition'>
  member: Gauge
  inFlight: Gauge<'topic' | 'partition'>
  watermark: Gauge<'topic' | 'partition'>
}

export function createWorkerMetrics(labels: { group: string; topic: string }): WorkerMetrics {
  const registry = new Registry()
  registry.setDefaultLabels({ group: labels.group })
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    processed: new Counter({
      name: 'lagscale_consumer_records_processed_total',
      help: 'Records the worker finished, by outcome: ok (handler succeeded) or dead_lettered',
      labelNames: ['outcome'],
      registers: [registry]
    }),
    retries: new Counter({
      name: 'lagscale_consumer_handler_retries_total',
      help: 'Handler attempts that failed and were retried',
      registers: [registry]
    }),
    skipped: new Counter({
      name: 'lagscale_consumer_records_skipped_total',
      help: 'Fetched records skipped because the group had already committed past them (after a rebalance)',
      registers: [registry]
    }),
    processingSeconds: new Histogram({
      name: 'lagscale_consumer_processing_seconds',
      help: 'Time from taking a record to committing it (all attempts, dead-lettering included)',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry]
    }),
    assigned: new Gauge({
      name: 'lagscale_consumer_assigned_partition',
      help: '1 for each partition assigned to this worker',
      labelNames: ['topic', 'partition'],
      registers: [registry]
    }),
    lag: new Gauge({
      name: 'lagscale_consumer_partition_lag',
      help: 'Log-end offset minus the worker position, per assigned partition',
      labelNames: ['topic', 'partition'],
      registers: [registry]
    }),
    inFlight: new Gauge({
      name: 'lagscale_consumer_records_in_flight',
      help: 'Records being worked on right now, per partition (at most --concurrency in all)',
      labelNames: ['topic', 'partition'],
      registers: [registry]
    }),
    watermark: new Gauge({
      name: 'lagscale_consumer_commit_watermark',
      help: 'Last committed offset per partition: every record below it is done',
      labelNames: ['topic', 'partition'],
      registers: [registry]
    }),
    member: new Gauge({
      name: 'lagscale_consumer_group_member',
      help: '1 while the worker is a live member of its consumer group',
      registers: [registry]
    })
  }
}
