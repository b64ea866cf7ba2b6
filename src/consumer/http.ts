import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

export interface HealthSource {
  /** A live member of the group, consuming (the worker's own view). */
  healthy(): boolean
  registry: Registry
  /**
   * How long a worker that has been a member may be out of the group and still answer healthy.
   * A rebalance or a broker restart of a few seconds must not fail the check (ECS would replace
   * every task in each rolling patch); a worker left out for longer must. Default 30 s: the
   * worker's rebalance timeout, the longest a rebalance waits for its members.
   */
  outOfGroupGraceMs?: number
}

/** The seed's health check path (ALB target group) and Prometheus metrics. */
export const HEALTH_PATH = '/msk-consumer-healthCheck'
export const DEFAULT_OUT_OF_GROUP_GRACE_MS = 30_000
/** How often membership is read between requests, so "out since" is known to the second, not to the probe interval. */
const SAMPLE_MS = 1000

export interface HealthAnswer {
  ok: boolean
  text: string
}

/**
 * The health answer from readings of the worker's membership. Pure but for its memory of when
 * the worker left the group. Never a member yet (starting, a standby): unhealthy, as before -
 * the platform's start period covers a start. Out of the group after having been in it:
 * healthy for `graceMs`, then unhealthy until it is back.
 */
export class OutOfGroupGrace {
  readonly graceMs: number
  #wasMember = false
  #outSince: number | undefined

  constructor(graceMs: number) {
    this.graceMs = graceMs
  }

  read(member: boolean, now: number): HealthAnswer {
    if (member) {
      this.#wasMember = true
      this.#outSince = undefined
      return { ok: true, text: 'Healthy' }
    }
    if (!this.#wasMember) return { ok: false, text: 'Unhealthy: not in the group' }
    this.#outSince ??= now
    const outMs = now - this.#outSince
    const seconds = Math.round(outMs / 1000)
    return outMs < this.graceMs
      ? { ok: true, text: `Healthy (out of the group for ${seconds} s; unhealthy after ${this.graceMs / 1000} s)` }
      : { ok: false, text: `Unhealthy: out of the group for ${seconds} s` }
  }
}

export function buildHttpServer(source: HealthSource): FastifyInstance {
  const app = Fastify({ logger: false })
  const grace = new OutOfGroupGrace(source.outOfGroupGraceMs ?? DEFAULT_OUT_OF_GROUP_GRACE_MS)
  const sampler = setInterval(() => grace.read(source.healthy(), Date.now()), SAMPLE_MS)
  sampler.unref()
  app.addHook('onClose', async () => clearInterval(sampler))
  app.get(HEALTH_PATH, async (_request, reply) => {
    const answer = grace.read(source.healthy(), Date.now())
    return reply
      .code(answer.ok ? 200 : 503)
      .type('text/plain')
      .send(answer.text)
  })
  app.get('/metrics', async (_request, reply) => {
    return reply.type(source.registry.contentType).send(await source.registry.metrics())
  })
  return app
}
