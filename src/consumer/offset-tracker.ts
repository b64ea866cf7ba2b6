/**
 * Which records of one partition are done, so a worker can run several records of a partition at once, out
 * of order, and still commit safely (like Confluent's Parallel Consumer). Pure: no I/O, no clock.
 *
 * The worker reports what it fetches, in fetch (= offset) order:
 * - `take(offset)` before handing a record to the handler, `complete(offset)` when the handler is done with it
 *   (ok or dead-lettered);
 * - `skip(offset)` for a fetched record it does not run, `advanceTo(position)` when it knows the fetch position
 *   moved past offsets without records (e.g. a transaction marker at the end of the log).
 * An offset the fetch passed without it being taken counts as done: gaps of compacted topics, transaction
 * markers, skipped records. So only taken, not completed records hold the watermark back.
 *
 * It commits `watermark()` (every record below it is done) with `encode()` as metadata: the records finished
 * above the watermark, which the next owner of the partition does not run again (`fromCommit`, `shouldSkip`).
 *
 * State is the in-flight records (a linked list in offset order, plus a map for O(1) `complete`) and the runs
 * finished before a restart; the finished offsets above the watermark are the complement of the in-flight ones
 * below the fetch position. So memory and `encode()` cost follow the in-flight count, not the window's span.
 */
import {
  DEFAULT_MAX_METADATA_BYTES,
  decodeFinished,
  encodeRuns,
  type OffsetRange,
  payloadCapacity,
  toPositions,
  varintLength
} from './offset-codec.ts'

export type { OffsetRange } from './offset-codec.ts'

export interface OffsetTrackerOptions {
  /** Offsets finished before above the start offset (from `decodeFinished`): never run again. */
  finished?: Iterable<OffsetRange>
  /** Upper bound on the length of `encode()`. Default 4000 (Kafka's offset.metadata.max.bytes is 4096). */
  maxMetadataBytes?: number
}

interface Slot {
  rel: number
  prev: Slot | undefined
  next: Slot | undefined
}

const MAX_REL = BigInt(Number.MAX_SAFE_INTEGER)

export class OffsetTracker {
  /** The start offset: the group's committed offset when the partition was assigned. */
  readonly base: bigint
  readonly maxMetadataBytes: number
  readonly #capacity: number
  /** Offsets are kept relative to `base` as numbers. Every offset below the frontier has been fetched. */
  #frontier = 0
  #head: Slot | undefined
  #tail: Slot | undefined
  readonly #inFlight = new Map<number, Slot>()
  /** Runs finished before the restart, flat [start, end, ...] relative to base. */
  readonly #seeds: number[]
  /** Index of the first seed run that ends above the frontier (the ones below are plain "done" now). */
  #seedAt = 0

  constructor(base: bigint, options: OffsetTrackerOptions = {}) {
    const max = options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`maxMetadataBytes must be an integer >= 0; got ${max}`)
    this.base = base
    this.maxMetadataBytes = max
    this.#capacity = payloadCapacity(max)
    this.#seeds = toPositions(base, options.finished ?? [])
  }

  /** A tracker for a partition just assigned: its committed offset and that commit's metadata. */
  static fromCommit(
    committedOffset: bigint,
    metadata: string | null | undefined,
    options: Omit<OffsetTrackerOptions, 'finished'> = {}
  ): OffsetTracker {
    return new OffsetTracker(committedOffset, { ...options, finished: decodeFinished(metadata, committedOffset) })
  }

  /** Records taken and not completed yet. */
  get inFlight(): number {
    return this.#inFlight.size
  }

  /** The fetch position as reported: every offset below it was taken, skipped or passed. */
  get position(): bigint {
    return this.base + BigInt(this.#frontier)
  }

  /**
   * The record at `offset` goes to the handler. Offsets must come in increasing order; the ones between
   * the previous fetched offset and this one count as done. Returns false, and the caller must not run the
   * record, when it needs no work: finished before the restart (`shouldSkip`), at or below an offset fetched
   * already (a duplicate delivery), or below the start offset. RangeError 2^53 or more above the start offset.
   */
  take(offset: bigint): boolean {
    const rel = this.#relative(offset)
    if (rel < this.#frontier) return false
    const seeded = this.#isSeeded(rel)
    this.#moveFrontier(rel + 1)
    if (seeded) return false
    const slot: Slot = { rel, prev: this.#tail, next: undefined }
    if (this.#tail) this.#tail.next = slot
    else this.#head = slot
    this.#tail = slot
    this.#inFlight.set(rel, slot)
    return true
  }

  /** The record at `offset` was fetched but is not run (e.g. `shouldSkip`): it counts as done. */
  skip(offset: bigint): void {
    this.advanceTo(offset + 1n)
  }

  /**
   * Every offset below `position` has been fetched; those not taken count as done. For gaps the next take
   * would not reveal yet, e.g. a transaction marker ending the log (else the lag would never reach 0).
   */
  advanceTo(position: bigint): void {
    const rel = this.#relative(position)
    if (rel > this.#frontier) this.#moveFrontier(rel)
  }

  /** The handler is done with `offset` (ok or dead-lettered). False when it was not in flight (a repeat). */
  complete(offset: bigint): boolean {
    const diff = offset - this.base
    if (diff < 0n) return false
    // Above 2^53 Number() rounds, but to a value above every key (take refuses those offsets).
    const slot = this.#inFlight.get(Number(diff))
    if (!slot) return false
    this.#inFlight.delete(slot.rel)
    if (slot.prev) slot.prev.next = slot.next
    else this.#head = slot.next
    if (slot.next) slot.next.prev = slot.prev
    else this.#tail = slot.prev
    return true
  }

  /** The offset to commit (the next one to read): every record below it is done. */
  watermark(): bigint {
    return this.base + BigInt(this.#watermarkRel())
  }

  /** True when the record at `offset` needs no work: `take` would return false. */
  shouldSkip(offset: bigint): boolean {
    const rel = this.#relative(offset)
    return rel < this.#frontier || this.#isSeeded(rel)
  }

  /**
   * Whether `take(offset)` (or `skip(offset)`; for `advanceTo(p)` ask about p - 1) keeps `encode()` exact
   * within `maxMetadataBytes`. When not, the worker holds the record until completions move the watermark.
   * Always true with nothing in flight, so the partition never stalls (the only case where that may not fit:
   * a seed written under a larger limit; `encode()` then drops its highest offsets, which run again after a
   * restart). A conservative bound, O(1).
   */
  canTake(offset: bigint): boolean {
    const rel = this.#relative(offset)
    if (rel < this.#frontier || !this.#head || this.#isSeeded(rel)) return true
    const seeds = this.#seeds
    const seedsEnd = seeds.length > 0 ? seeds[seeds.length - 1]! : 0
    const span = Math.max(rel + 1, seedsEnd) - this.#head.rel - 1
    // Finished runs after the take: one between each two in-flight records (now size + 1 of them, the new
    // one last, at the frontier), plus the seed runs above.
    const runs = this.#inFlight.size + (seeds.length - this.#seedAt) / 2
    const rleBound = 2 * runs * varintLength(span)
    const bitsetBound = Math.ceil(span / 8)
    return Math.min(rleBound, bitsetBound) <= this.#capacity
  }

  /** The offsets done above the watermark, as ascending, disjoint, non-adjacent ranges. */
  finishedAbove(): OffsetRange[] {
    const origin = this.base + BigInt(this.#watermarkRel()) + 1n
    const runs = this.#finishedRuns()
    const out: OffsetRange[] = []
    for (let i = 0; i < runs.length; i += 2) {
      out.push({ start: origin + BigInt(runs[i]!), end: origin + BigInt(runs[i + 1]!) })
    }
    return out
  }

  /** Commit metadata for `watermark()`: the finished offsets above it, at most `maxMetadataBytes` long. */
  encode(): string {
    return encodeRuns(this.watermark(), this.#finishedRuns(), this.maxMetadataBytes)
  }

  #relative(offset: bigint): number {
    const diff = offset - this.base
    if (diff < 0n) return -1
    if (diff > MAX_REL) throw new RangeError(`offset ${offset} is too far above the start offset ${this.base}`)
    return Number(diff)
  }

  #watermarkRel(): number {
    if (this.#head) return this.#head.rel
    const f = this.#frontier
    const i = this.#seedAt
    // With nothing in flight, a seed run starting at the frontier is done too.
    return i < this.#seeds.length && this.#seeds[i]! <= f ? this.#seeds[i + 1]! : f
  }

  #moveFrontier(rel: number): void {
    this.#frontier = rel
    const seeds = this.#seeds
    while (this.#seedAt < seeds.length && seeds[this.#seedAt + 1]! <= rel) this.#seedAt += 2
  }

  /** Whether `rel` (at or above the frontier) lies in a seed run: binary search from the frontier's run. */
  #isSeeded(rel: number): boolean {
    const seeds = this.#seeds
    let lo = this.#seedAt / 2
    let hi = seeds.length / 2
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (seeds[mid * 2 + 1]! <= rel) lo = mid + 1
      else hi = mid
    }
    return lo < seeds.length / 2 && seeds[lo * 2]! <= rel
  }

  /** Finished runs above the watermark as flat [start, end) pairs of positions (offset - watermark - 1). */
  #finishedRuns(): number[] {
    const w = this.#watermarkRel()
    const origin = w + 1
    const out: number[] = []
    const push = (start: number, end: number): void => {
      if (end <= start) return
      const last = out.length - 1
      if (last > 0 && out[last] === start - origin) out[last] = end - origin
      else out.push(start - origin, end - origin)
    }
    let cursor = origin
    if (this.#head) {
      // Below the frontier everything but the in-flight records is done.
      for (let slot = this.#head.next; slot; slot = slot.next) {
        push(cursor, slot.rel)
        cursor = slot.rel + 1
      }
      push(cursor, this.#frontier)
      cursor = this.#frontier
    }
    const seeds = this.#seeds
    for (let i = this.#seedAt; i < seeds.length; i += 2) push(Math.max(seeds[i]!, cursor), seeds[i + 1]!)
    return out
  }
}
