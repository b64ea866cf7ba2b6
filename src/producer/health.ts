import { toUserError } from '../kafka/errors.ts'
import { withTimeout } from '../timeout.ts'
import type { RecordSink } from './kafka-sink.ts'

export type Health = { ok: true } | { ok: false; reason: string }

export interface HealthOptions {
  topic: string
  /** A probe that takes longer counts as a failure. */
  timeoutMs: number
  /** An answer is reused this long, so a busy load balancer does not flood the cluster with metadata requests. */
  cacheMs: number
  now?: () => number
}

/** Can the producer reach the cluster and see its topic? A cached, single-flight metadata probe. */
export class HealthProbe {
  readonly #sink: RecordSink
  readonly #options: HealthOptions
  readonly #now: () => number
  #last: { at: number; health: Health } | undefined
  #running: Promise<Health> | undefined

  constructor(sink: RecordSink, options: HealthOptions) {
    this.#sink = sink
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  check(): Promise<Health> {
    if (this.#last && this.#now() - this.#last.at < this.#options.cacheMs) return Promise.resolve(this.#last.health)
    this.#running ??= this.#probe().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #probe(): Promise<Health> {
    let health: Health
    try {
      await withTimeout(
        this.#sink.probe(this.#options.topic),
        this.#options.timeoutMs,
        () => new Error(`Kafka did not answer within ${this.#options.timeoutMs} ms`)
      )
      health = { ok: true }
    } catch (err) {
      health = { ok: false, reason: toUserError(err).message }
    }
    this.#last = { at: this.#now(), health }
    return health
  }
}
