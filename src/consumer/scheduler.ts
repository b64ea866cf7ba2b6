/**
 * Which fetched records may start now, given the worker's concurrency and ordering. Pure:
 * no I/O, no timers.
 *
 * - `partition`: one record of a partition at a time (Kafka's own guarantee), partitions in parallel.
 * - `key`: one record per key of a partition at a time; different keys in parallel. Records
 *   without a key count as one key (so keyless topics need `unordered` to run in parallel).
 * - `unordered`: any record, as soon as a slot is free.
 */
export type Ordering = 'partition' | 'key' | 'unordered'

export const ORDERINGS = ['partition', 'key', 'unordered'] as const satisfies readonly Ordering[]

export interface Job<T> {
  partition: number
  offset: bigint
  key: string | null
  item: T
}

interface PartitionQueue<T> {
  queued: Job<T>[]
  running: number
  /** Keys with a record running (key ordering). */
  runningKeys: Map<string, number>
}

const keyOf = (job: { key: string | null }): string => job.key ?? '\u0000null'

export class WorkScheduler<T> {
  readonly concurrency: number
  readonly ordering: Ordering
  readonly #partitions = new Map<number, PartitionQueue<T>>()
  #running = 0
  #queued = 0
  /** Round-robin start, so one busy partition does not starve the others. */
  #turn = 0

  constructor(options: { concurrency: number; ordering: Ordering }) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError('concurrency must be an integer >= 1')
    }
    this.concurrency = options.concurrency
    this.ordering = options.ordering
  }

  get running(): number {
    return this.#running
  }

  get queued(): number {
    return this.#queued
  }

  runningOn(partition: number): number {
    return this.#partitions.get(partition)?.running ?? 0
  }

  queuedOn(partition: number): number {
    return this.#partitions.get(partition)?.queued.length ?? 0
  }

  /** Adds a fetched record; records of a partition must come in offset order. */
  add(job: Job<T>): void {
    let q = this.#partitions.get(job.partition)
    if (!q) {
      q = { queued: [], running: 0, runningKeys: new Map() }
      this.#partitions.set(job.partition, q)
    }
    q.queued.push(job)
    this.#queued++
  }

  /** The records to start now (marked running), as many as free slots and ordering allow. */
  next(): Job<T>[] {
    const started: Job<T>[] = []
    const partitions = [...this.#partitions.keys()]
    if (partitions.length === 0) return started
    let progress = true
    // Round robin over partitions, one record per partition per pass, until no slot or nothing can start.
    while (this.#running < this.concurrency && progress) {
      progress = false
      for (let i = 0; i < partitions.length && this.#running < this.concurrency; i++) {
        const partition = partitions[(this.#turn + i) % partitions.length]!
        const job = this.#startable(this.#partitions.get(partition)!)
        if (!job) continue
        this.#start(job)
        started.push(job)
        progress = true
      }
      this.#turn = (this.#turn + 1) % partitions.length
    }
    return started
  }

  #startable(q: PartitionQueue<T>): Job<T> | undefined {
    if (q.queued.length === 0) return undefined
    if (this.ordering === 'unordered') return q.queued[0]
    if (this.ordering === 'partition') return q.running === 0 ? q.queued[0] : undefined
    // key: the first queued record whose key has nothing running and no earlier queued record.
    const seen = new Set<string>()
    for (const job of q.queued) {
      const k = keyOf(job)
      if (!seen.has(k) && !q.runningKeys.has(k)) return job
      seen.add(k)
    }
    return undefined
  }

  #start(job: Job<T>): void {
    const q = this.#partitions.get(job.partition)!
    q.queued.splice(q.queued.indexOf(job), 1)
    q.running++
    const k = keyOf(job)
    q.runningKeys.set(k, (q.runningKeys.get(k) ?? 0) + 1)
    this.#queued--
    this.#running++
  }

  /** A started record finished (however it ended). */
  done(job: Job<T>): void {
    const q = this.#partitions.get(job.partition)
    if (!q) return
    q.running--
    this.#running--
    const k = keyOf(job)
    const n = (q.runningKeys.get(k) ?? 1) - 1
    if (n <= 0) q.runningKeys.delete(k)
    else q.runningKeys.set(k, n)
    if (q.running === 0 && q.queued.length === 0) this.#partitions.delete(job.partition)
  }

  /** Drops the queued (not running) records of partitions no longer ours; returns them. */
  dropPartitions(keep: (partition: number) => boolean): Job<T>[] {
    const dropped: Job<T>[] = []
    for (const [partition, q] of this.#partitions) {
      if (keep(partition)) continue
      dropped.push(...q.queued)
      this.#queued -= q.queued.length
      q.queued = []
      if (q.running === 0) this.#partitions.delete(partition)
    }
    return dropped
  }
}
