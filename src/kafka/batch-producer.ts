import type { MessageToProduce } from '@platformatic/kafka'
import { createProducer, type RawProducer } from './clients.ts'
import type { ConnectionConfig } from './connection-config.ts'
import { javaCompatiblePartitioner } from './partitioner.ts'

export type RawMessage = MessageToProduce<Buffer, Buffer, string, Buffer>

export interface BatchProducerOptions {
  /** Most records in one produce request (one lane's batch, over that lane's partitions). */
  batchSize?: number
  /** How long an idle lane waits for a batch to fill before sending what it has. */
  lingerMs?: number
  /**
   * Lanes: partition p belongs to lane p % lanes, and a lane sends one batch at a
   * time. With createBatchProducer every lane has a producer (connection, producer
   * id) of its own. Ignored when the constructor is given an array of producers.
   */
  lanes?: number
  /** write() returns false once this many records are accepted but not yet acknowledged. */
  maxPendingRecords?: number
  /** Called after each acknowledged batch with its record count. */
  onAcknowledged?: (count: number) => void
}

export interface BatchProducerStats {
  /** Records the broker acknowledged (acks=all when the producers are idempotent). */
  acknowledged: number
  /** Produce calls made (one request per broker per call). */
  requests: number
}

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
  /** Waits for everything to be acknowledged, not only for room. */
  idle: boolean
}

interface Lane {
  producer: RawProducer
  buffer: RawMessage[]
  sending: boolean
  timer: NodeJS.Timeout | undefined
}

/**
 * lagscale's fast way to produce many records: acks=all, idempotent, per-partition order kept.
 * `lanes` producers from createProducer, each with its own connection; close() closes them.
 * Feed it with `if (!bp.write(m)) await bp.ready()`, then `await bp.close()` (or flush()).
 */
export function createBatchProducer(config: ConnectionConfig, options: BatchProducerOptions = {}): BatchProducer {
  const lanes = positive('lanes', options.lanes ?? 2)
  const producers = Array.from({ length: lanes }, () => createProducer(config))
  return new BatchProducer(producers, options, true)
}

/**
 * Feeds producers as fast as they take records without giving up ordering.
 *
 * Why not `producer.asStream()` or one producer: @platformatic/kafka allows one
 * request in flight per connection when the producer is idempotent, and the stream
 * sends one batch at a time. The client then serializes the next batch while the
 * broker waits, and waits while the broker appends. Here records are split by
 * partition into lanes; each lane has its own producer (connection), so while the
 * client builds one lane's next request, the broker is busy with another lane's.
 *
 * Ordering and idempotence: a partition always goes through the same lane, and a
 * lane has at most one batch in flight, so no partition ever has two batches in
 * flight: a batch the client retries cannot be overtaken by a later one. Each
 * partition is written by one producer id only, so the broker's per-producer
 * sequence numbers still de-duplicate retries.
 *
 * Records are assigned to partitions here, with the same partitioner as
 * createProducer (keyed: murmur2 as Java; keyless: round robin). The message
 * objects are taken over: their `partition` is set.
 */
export class BatchProducer {
  readonly #producers: RawProducer[]
  readonly #ownsProducers: boolean
  readonly #batchSize: number
  readonly #lingerMs: number
  readonly #maxPending: number
  readonly #onAcknowledged: ((count: number) => void) | undefined
  readonly #partitioner = javaCompatiblePartitioner<Buffer, Buffer, string, Buffer>()
  readonly #lanes: Lane[]
  /** Partition counts by topic; records for a topic not known yet wait in #waitingForMetadata. */
  readonly #partitions = new Map<string, number>()
  readonly #waitingForMetadata = new Map<string, RawMessage[]>()
  #pending = 0
  #failure: unknown
  #failed = false
  #waiters: Waiter[] = []
  readonly #stats: BatchProducerStats = { acknowledged: 0, requests: 0 }

  /**
   * One producer: its lanes share its connection (one request in flight). An array:
   * one lane per producer. `ownsProducers`: close() closes them.
   */
  constructor(producers: RawProducer | RawProducer[], options: BatchProducerOptions = {}, ownsProducers = false) {
    this.#producers = Array.isArray(producers) ? producers : [producers]
    if (this.#producers.length === 0) throw new RangeError('BatchProducer needs a producer')
    this.#ownsProducers = ownsProducers
    this.#batchSize = positive('batchSize', options.batchSize ?? 1000)
    this.#lingerMs = Math.max(0, options.lingerMs ?? 5)
    const lanes = Array.isArray(producers) ? producers.length : positive('lanes', options.lanes ?? 2)
    this.#maxPending = positive('maxPendingRecords', options.maxPendingRecords ?? this.#batchSize * lanes * 4)
    this.#onAcknowledged = options.onAcknowledged
    this.#lanes = Array.from({ length: lanes }, (_, i) => ({
      producer: this.#producers[i % this.#producers.length]!,
      buffer: [],
      sending: false,
      timer: undefined
    }))
  }

  get stats(): BatchProducerStats {
    return { ...this.#stats }
  }

  /** Records accepted and not yet acknowledged. */
  get pending(): number {
    return this.#pending
  }

  /** Queues one record. Returns false when the caller should `await ready()` first. Throws after a failure. */
  write(message: RawMessage): boolean {
    if (this.#failed) throw this.#failure
    this.#pending++
    const partitions = this.#partitions.get(message.topic)
    if (partitions === undefined) this.#awaitMetadata(message)
    else this.#enqueue(message, partitions)
    return this.#pending < this.#maxPending
  }

  /** Resolves when write() may be called again; rejects with the first send error. */
  ready(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failure)
    if (this.#pending < this.#maxPending) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject, idle: false }))
  }

  /** Sends everything buffered now and resolves once all of it is acknowledged. */
  flush(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failure)
    for (const lane of this.#lanes) this.#send(lane)
    if (this.#pending === 0) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject, idle: true }))
  }

  /**
   * flush(), then closes the producers if this BatchProducer created them. After a
   * failure it only closes them and rethrows the failure.
   */
  async close(): Promise<void> {
    let failure: unknown
    try {
      await this.flush()
    } catch (err) {
      failure = err
    }
    if (this.#ownsProducers) await Promise.all(this.#producers.map((p) => p.close(true).catch(() => {})))
    if (failure !== undefined) throw failure
  }

  /** Drops what is not sent yet; batches in flight still complete in the client. */
  abort(reason: unknown = new Error('producer aborted')): void {
    this.#fail(reason)
  }

  #enqueue(message: RawMessage, partitions: number): void {
    let partition = message.partition
    if (partition === undefined) partition = this.#partitioner(message, message.key)
    partition = (partition & 0x7fffffff) % partitions
    message.partition = partition
    const lane = this.#lanes[partition % this.#lanes.length]!
    lane.buffer.push(message)
    if (lane.sending) return
    if (lane.buffer.length >= this.#batchSize) this.#send(lane)
    else lane.timer ??= setTimeout(() => this.#send(lane), this.#lingerMs)
  }

  #awaitMetadata(message: RawMessage): void {
    const waiting = this.#waitingForMetadata.get(message.topic)
    if (waiting) {
      waiting.push(message)
      return
    }
    this.#waitingForMetadata.set(message.topic, [message])
    this.#producers[0]!.metadata({ topics: [message.topic] }, (error, metadata) => {
      const queued = this.#waitingForMetadata.get(message.topic) ?? []
      this.#waitingForMetadata.delete(message.topic)
      if (this.#failed) return
      const count = metadata?.topics.get(message.topic)?.partitionsCount
      if (error || !count) {
        this.#fail(error ?? new Error(`no metadata for topic ${message.topic}`))
        return
      }
      this.#partitions.set(message.topic, count)
      for (const m of queued) this.#enqueue(m, count)
    })
  }

  #send(lane: Lane): void {
    if (lane.timer) {
      clearTimeout(lane.timer)
      lane.timer = undefined
    }
    if (lane.sending || lane.buffer.length === 0 || this.#failed) return
    let batch: RawMessage[]
    if (lane.buffer.length <= this.#batchSize) {
      batch = lane.buffer
      lane.buffer = []
    } else {
      batch = lane.buffer.splice(0, this.#batchSize)
    }
    lane.sending = true
    this.#stats.requests++
    lane.producer.send({ messages: batch }, (error) => {
      lane.sending = false
      if (error) {
        this.#fail(error)
        return
      }
      this.#pending -= batch.length
      this.#stats.acknowledged += batch.length
      this.#refreshPartitionCount(lane.producer, batch[0]!.topic)
      this.#onAcknowledged?.(batch.length)
      // Whatever arrived while this batch was out has waited long enough: send it now.
      this.#send(lane)
      this.#wake()
    })
  }

  /** Picks up partitions added to a topic (the client refreshes its metadata as it sends). */
  #refreshPartitionCount(producer: RawProducer, topic: string): void {
    const count = producer.currentMetadata?.topics.get(topic)?.partitionsCount
    if (count && count !== this.#partitions.get(topic)) this.#partitions.set(topic, count)
  }

  #wake(): void {
    if (this.#waiters.length === 0) return
    const still: Waiter[] = []
    for (const waiter of this.#waiters) {
      if (waiter.idle ? this.#pending === 0 : this.#pending < this.#maxPending) waiter.resolve()
      else still.push(waiter)
    }
    this.#waiters = still
  }

  #fail(error: unknown): void {
    if (this.#failed) return
    this.#failed = true
    this.#failure = error
    for (const lane of this.#lanes) {
      if (lane.timer) clearTimeout(lane.timer)
      lane.timer = undefined
      lane.buffer = []
    }
    this.#waitingForMetadata.clear()
    const waiters = this.#waiters
    this.#waiters = []
    for (const waiter of waiters) waiter.reject(error)
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer; got ${value}`)
  return value
}
