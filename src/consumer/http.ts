import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

export interface HealthSource {
  healthy(): boolean
  registry: Registry
}

/** The seed's health check path (ALB target group) and Prometheus metrics. */
export const HEALTH_PATH = '/msk-consumer-healthCheck'

export function buildHttpServer(source: HealthSource): FastifyInstance {
  const app = Fastify({ logger: false })
  app.get(HEALTH_PATH, async (_request, reply) => {
    const ok = source.healthy()
    return reply
      .code(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'Healthy' : 'Unhealthy')
  })
  app.get('/metrics', async (_request, reply) => {
    return reply.type(source.registry.contentType).send(await source.registry.metrics())
  })
  return app
}
