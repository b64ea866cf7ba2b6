import { randomInt } from 'node:crypto'
import type { RawMessage } from '../kafka/batch-producer.ts'
import { toUserError } from '../kafka/errors.ts'
import type { Logger } from '../log.ts'
import { withTimeout } from '../timeout.ts'
import type { RecordSink } from './kafka-sink.ts'
import type { ProducerMetrics } from './metrics.ts'

/** The records one request wrote to one partition. */
export interface PartitionReport {
  partition: number
  count: number
  /** Offsets of the first and last of them; records of concurrent requests may lie in between. */
  firstOffset: number
  lastOffset: number
}

export interface SendReport {
  topic: string
  count: number
  partitions: PartitionReport[]
}

/** A send that did not get all its acknowledgements: the app answers 503. */
export class SendFailed extends Error {
  readonly acknowledged: number

  constructor(message: string, acknowledged: number, options?: ErrorOptions) {
    super(message, options)
    this.name = 'SendFailed'
    this.acknowledged = acknowledged
  }
}

export interface SendServiceOptions {
  topic: string
  batchSize: number
  ackTimeoutMs: number
}

/** The seed's payload: a random integer 0..10 (the seconds of work for a consumer), as a decimal string. */
export function randomWorkValue(): string {
  return String(randomInt(0, 11))
}

/**
 * Sends records to the topic, keyless, spread round robin over its partitions, in
 * produce requests of `batchSize` records, and resolves only when the brokers have
 * acknowledged every one (acks=all). A request not acknowledged within
 * `ackTimeoutMs` fails the send, so an HTTP request never hangs on a dead cluster.
 */
export class SendService {
  readonly #sink: RecordSink
  readonly #options: SendServiceOptions
  readonly #metrics: ProducerMetrics
  readonly #log: Logger
  #nextPartition = randomInt(0, 1 << 30)

  constructor(sink: RecordSink, options: SendServiceOptions, metrics: ProducerMetrics, log: Logger) {
    this.#sink = sink
    this.#options = options
    this.#metrics = metrics
    this.#log = log
  }

  /** `count` random work values (0..10), or the given values. */
  async send(what: number | string[]): Promise<SendReport> {
    const total = typeof what === 'number' ? what : what.length
    const value = typeof what === 'number' ? randomWorkValue : (i: number) => what[i]!
    const { topic, batchSize } = this.#options
    const started = process.hrtime.bigint()
    const byPartition = new Map<number, PartitionReport>()
    let acknowledged = 0
    this.#log.info({ topic, count: total }, 'sending records')
    try {
      const partitions = await this.#bounded(this.#sink.partitionCount(topic), 0)
      while (acknowledged < total) {
        const size = Math.min(batchSize, total - acknowledged)
        const batch: RawMessage[] = []
        const counts = new Map<number, number>()
        for (let i = 0; i < size; i++) {
          const partition = this.#nextPartition++ % partitions
          this.#nextPartition %= 1 << 30
          counts.set(partition, (counts.get(partition) ?? 0) + 1)
          batch.push({ topic, partition, value: Buffer.from(value(acknowledged + i)) })
        }
        const offsets = await this.#bounded(this.#sink.send(batch), acknowledged)
        for (const { partition, baseOffset } of offsets) {
          const n = counts.get(partition) ?? 0
          if (n === 0) continue
          const first = Number(baseOffset)
          const last = first + n - 1
          const seen = byPartition.get(partition)
          if (seen) {
            seen.count += n
            seen.firstOffset = Math.min(seen.firstOffset, first)
            seen.lastOffset = Math.max(seen.lastOffset, last)
          } else byPartition.set(partition, { partition, count: n, firstOffset: first, lastOffset: last })
        }
        acknowledged += size
        this.#metrics.recordsSent.inc({ topic }, size)
      }
    } catch (err) {
      this.#observe(started, 'error')
      const reason = err instanceof SendFailed ? err.message : toUserError(err).message
      this.#log.warn({ topic, count: total, acknowledged, reason }, 'send failed')
      throw new SendFailed(reason, acknowledged, { cause: err })
    }
    const seconds = this.#observe(started, 'ok')
    this.#log.info({ topic, count: total, ms: Math.round(seconds * 1000) }, 'records acknowledged')
    return {
      topic,
      count: total,
      partitions: [...byPartition.values()].sort((a, b) => a.partition - b.partition)
    }
  }

  #bounded<T>(promise: Promise<T>, acknowledged: number): Promise<T> {
    const ms = this.#options.ackTimeoutMs
    return withTimeout(
      promise,
      ms,
      () => new SendFailed(`Kafka did not acknowledge the records within ${ms} ms`, acknowledged)
    )
  }

  #observe(started: bigint, outcome: 'ok' | 'error'): number {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    this.#metrics.sendDuration.observe({ outcome }, seconds)
    return seconds
  }
}
