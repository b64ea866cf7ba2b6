import type { RawMessage } from '../kafka/batch-producer.ts'
import type { PartitionOffset, RecordSink } from './kafka-sink.ts'

export interface CoalescingOptions {
  /** Most records in one combined produce request; one send larger than this still goes alone, whole. */
  maxRecords: number
  /** Each produce request as it goes out: how many sends and records it combines. */
  onRequest?: (sends: number, records: number) => void
  /** Sends waiting behind the request in flight, after each change. */
  onWaiting?: (sends: number) => void
}

interface Queued {
  messages: RawMessage[]
  resolve: (offsets: PartitionOffset[]) => void
  reject: (err: unknown) => void
}

/**
 * Combines concurrent sends into shared produce requests. The idempotent producer has one
 * request in flight, so concurrent HTTP requests each waited a round trip for their own
 * (bench:http). Here a send goes out at once when nothing is in flight (no linger, no added
 * latency at low load); sends that arrive meanwhile wait and then go together, in arrival
 * order, in one request of at most `maxRecords`. Each caller gets its own records' offsets:
 * a partition's records of one produce request are appended in order, so a caller's first
 * record in partition p is the request's base offset of p plus the records of p before it.
 * A failed request fails every send in it and no other. Messages must have their partition set.
 */
export function coalescingSink(inner: RecordSink, options: CoalescingOptions): RecordSink {
  return new CoalescingSink(inner, options)
}

class CoalescingSink implements RecordSink {
  readonly #inner: RecordSink
  readonly #maxRecords: number
  readonly #onRequest: CoalescingOptions['onRequest']
  readonly #onWaiting: CoalescingOptions['onWaiting']
  readonly #queue: Queued[] = []
  #inFlight: Promise<void> | undefined

  constructor(inner: RecordSink, options: CoalescingOptions) {
    if (!Number.isInteger(options.maxRecords) || options.maxRecords < 1) {
      throw new RangeError(`maxRecords must be an integer >= 1; got ${options.maxRecords}`)
    }
    this.#inner = inner
    this.#maxRecords = options.maxRecords
    this.#onRequest = options.onRequest
    this.#onWaiting = options.onWaiting
  }

  partitionCount(topic: string): Promise<number> {
    return this.#inner.partitionCount(topic)
  }

  probe(topic: string): Promise<void> {
    return this.#inner.probe(topic)
  }

  send(messages: RawMessage[]): Promise<PartitionOffset[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ messages, resolve, reject })
      if (!this.#inFlight) this.#next()
      else this.#onWaiting?.(this.#queue.length)
    })
  }

  /** Waits for every queued send, then closes the producer. */
  async close(): Promise<void> {
    while (this.#inFlight) await this.#inFlight
    await this.#inner.close()
  }

  #next(): void {
    const group = this.#take()
    if (group.length === 0) {
      this.#inFlight = undefined
      return
    }
    const messages = group.length === 1 ? group[0]!.messages : group.flatMap((q) => q.messages)
    this.#onRequest?.(group.length, messages.length)
    this.#onWaiting?.(this.#queue.length)
    let sent: Promise<PartitionOffset[]>
    try {
      sent = this.#inner.send(messages)
    } catch (err) {
      // A sink that throws instead of rejecting must not leave the queue stuck.
      sent = Promise.reject(err)
    }
    this.#inFlight = sent
      .then((offsets) => {
        const shares = splitOffsets(
          group.map((q) => q.messages),
          offsets
        )
        for (const [i, q] of group.entries()) q.resolve(shares[i]!)
      })
      .catch((err: unknown) => {
        for (const q of group) q.reject(err)
      })
      .finally(() => this.#next())
  }

  /** Whole sends from the head of the queue, up to maxRecords (at least one). */
  #take(): Queued[] {
    const group: Queued[] = []
    let records = 0
    while (this.#queue.length > 0) {
      const size = this.#queue[0]!.messages.length
      if (group.length > 0 && records + size > this.#maxRecords) break
      group.push(this.#queue.shift()!)
      records += size
    }
    return group
  }
}

/**
 * Each send's share of one produce request's offsets: per partition, the request's base
 * offset plus the records of that partition that earlier sends put before it.
 */
export function splitOffsets(sends: readonly RawMessage[][], offsets: readonly PartitionOffset[]): PartitionOffset[][] {
  const base = new Map(offsets.map((o) => [o.partition, o.baseOffset]))
  const before = new Map<number, bigint>()
  return sends.map((messages) => {
    const counts = new Map<number, number>()
    for (const m of messages) {
      if (m.partition === undefined) throw new Error('coalescing sink: a message without a partition')
      counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1)
    }
    const mine: PartitionOffset[] = []
    for (const [partition, n] of counts) {
      const b = base.get(partition)
      if (b === undefined) continue
      const earlier = before.get(partition) ?? 0n
      mine.push({ partition, baseOffset: b + earlier })
      before.set(partition, earlier + BigInt(n))
    }
    return mine
  })
}
