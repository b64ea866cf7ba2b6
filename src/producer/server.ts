import Fastify, { type FastifyBaseLogger } from 'fastify'
import { createLogger, type Logger } from '../log.ts'
import { withTimeout } from '../timeout.ts'
import { apiRoutes } from './api-routes.ts'
import { coalescingSink } from './coalescing-sink.ts'
import type { ProducerConfig } from './config.ts'
import { HealthProbe } from './health.ts'
import { producerSink, type RecordSink } from './kafka-sink.ts'
import { createProducerMetrics, type ProducerMetrics } from './metrics.ts'
import { metricsRoute, seedRoutes } from './routes.ts'
import { SendService } from './send-service.ts'

export interface ProducerAppDeps {
  logger?: Logger
  /** Kafka access; by default one long-lived producer (acks=all, idempotent) that close() closes. */
  sink?: RecordSink
  metrics?: ProducerMetrics
}

export interface ProducerApp {
  /** Where it listens, e.g. http://127.0.0.1:8082 */
  url: string
  port: number
  /**
   * Graceful shutdown: stops accepting connections, lets in-flight requests (and
   * their sends) finish, then closes the producer. Safe to call more than once.
   */
  close(): Promise<void>
}

/** Starts the producer web app (the seed's S14-S17, plus /api/messages and /metrics). */
export async function startProducerApp(config: ProducerConfig, deps: ProducerAppDeps = {}): Promise<ProducerApp> {
  const log = deps.logger ?? createLogger({ name: 'lagscale-producer' })
  const metrics = deps.metrics ?? createProducerMetrics()
  // Concurrent requests share produce requests (the idempotent producer has one in flight).
  const sink = coalescingSink(deps.sink ?? producerSink(config.connection), {
    maxRecords: config.batchSize,
    onRequest: (sends) => {
      metrics.produceRequests.inc()
      metrics.sendsPerRequest.observe(sends)
    },
    onWaiting: (sends) => metrics.sendsWaiting.set(sends)
  })
  const sender = new SendService(
    sink,
    { topic: config.topic, batchSize: config.batchSize, ackTimeoutMs: config.ackTimeoutMs },
    metrics,
    log
  )
  const health = new HealthProbe(sink, {
    topic: config.topic,
    timeoutMs: config.healthTimeoutMs,
    cacheMs: config.healthCacheMs
  })

  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, forceCloseConnections: 'idle' })
  let closing = false
  // Requests between arrival and response: close() waits for them before closing the Kafka
  // producer (Fastify's close() can resolve while a handler is still awaiting its send).
  const inFlight = new Set<string>()
  let drained: (() => void) | undefined
  const finished = (id: string): void => {
    inFlight.delete(id)
    if (inFlight.size === 0) drained?.()
  }
  app.addHook('onRequest', async (req, reply) => {
    inFlight.add(req.id)
    // The response's 'close' comes once it is sent or its connection is gone, whichever way the
    // request ended (onResponse/onRequestAbort miss a client that leaves mid-request: a
    // benchmark stopping held shutdown for the whole shutdownTimeoutMs).
    reply.raw.once('close', () => finished(req.id))
  })
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpRequests.inc({
      method: req.method,
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode)
    })
    // A keep-alive connection whose last request finished during shutdown must not hold close() up.
    if (closing) setImmediate(() => app.server.closeIdleConnections())
  })
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/plain; charset=utf-8').send('Not found.'))
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode ?? 500
    if (status >= 500) req.log.error({ err }, 'request failed')
    return reply
      .code(status)
      .type('text/plain; charset=utf-8')
      .send(status >= 500 ? 'Internal server error.' : err.message)
  })
  await app.register(seedRoutes, { sender, health, maxMessagesPerRequest: config.maxMessagesPerRequest, log })
  await app.register(apiRoutes, {
    sender,
    maxMessagesPerRequest: config.maxMessagesPerRequest,
    maxApiValues: config.maxApiValues
  })
  metricsRoute(app, metrics)

  await app.listen({ port: config.port, host: config.host })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  log.info({ url, topic: config.topic, bootstrap: config.connection.bootstrapServers }, `producer listening on ${url}`)

  // Say early when the cluster is out of reach; the app keeps serving (health answers 503).
  void health.check().then((state) => {
    if (!state.ok) log.warn({ reason: state.reason }, 'Kafka is not reachable yet')
  })

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true
      log.info('shutting down: no new connections; waiting for in-flight requests')
      const force = setTimeout(() => {
        log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'in-flight requests still running: closing their connections')
        app.server.closeAllConnections()
      }, config.shutdownTimeoutMs)
      try {
        await app.close()
        if (inFlight.size > 0) {
          // Bounded like the rest of the shutdown: a stuck request does not keep the process alive.
          let timer: NodeJS.Timeout | undefined
          await Promise.race([
            new Promise<void>((resolve) => {
              drained = resolve
            }),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, config.shutdownTimeoutMs)
            })
          ])
          clearTimeout(timer)
        }
      } finally {
        clearTimeout(force)
        if (!deps.sink) {
          await withTimeout(sink.close(), 5000, () => new Error('the producer did not close within 5 s')).catch(
            (err: unknown) => log.warn({ err }, 'closing the producer failed')
          )
        }
      }
      log.info('producer stopped')
    })()
    return closed
  }
  return { url, port, close }
}
