/**
 * Commit metadata for records finished above the committed offset (parallel processing within a partition).
 *
 * Format: `lagscale-done/1 <committed offset> <kind><payload>`, payload in unpadded base64url.
 * Positions count from committed offset + 1 (the committed offset itself is never finished: it is the
 * lowest record not done), so position p is offset committed + 1 + p.
 * - kind `r`, run lengths: unsigned LEB128 varints, alternating (positions not finished, positions finished),
 *   starting with the not-finished run (may be 0), ending with a finished run; every other run is >= 1.
 * - kind `b`, bitset: bit p (byte p >> 3, least significant bit first) set when position p is finished.
 * The encoder writes whichever is shorter. Nothing finished above the committed offset: the empty string.
 *
 * Pure: no I/O. Decoding never throws; anything not ours, malformed, or written for another committed offset
 * decodes to nothing finished (the records are then processed again: at-least-once, never skipped wrongly).
 */

/** Offsets `start` (inclusive) to `end` (exclusive). */
export interface OffsetRange {
  start: bigint
  end: bigint
}

export const DONE_PREFIX = 'lagscale-done/1 '
/** Kafka's offset.metadata.max.bytes defaults to 4096; the rest is left for a prefix the worker may add. */
export const DEFAULT_MAX_METADATA_BYTES = 4000
/** An int64 offset has at most 19 digits. */
const MAX_OFFSET_DIGITS = 19
/**
 * Header characters budgeted as if the offset had 19 digits, so the payload capacity does not shrink as
 * the offset grows (keeps the tracker's "fits" answer stable while the watermark moves).
 */
const HEADER_BUDGET = DONE_PREFIX.length + MAX_OFFSET_DIGITS + 2
const BASE64URL = /^[A-Za-z0-9_-]*$/
/** A varint of a safe integer (< 2^53) takes at most 8 bytes. */
const MAX_VARINT_BYTES = 8

/** Payload bytes that fit in `maxMetadataBytes` characters of metadata (base64url: 3 bytes per 4 characters). */
export function payloadCapacity(maxMetadataBytes: number): number {
  const chars = Math.max(0, Math.floor(maxMetadataBytes) - HEADER_BUDGET)
  const rest = chars % 4
  return Math.floor(chars / 4) * 3 + (rest === 3 ? 2 : rest === 2 ? 1 : 0)
}

/** Bytes of `n` (a non-negative safe integer) as an unsigned LEB128 varint. */
export function varintLength(n: number): number {
  let len = 1
  // Division, not shifts: run lengths may exceed 2^31.
  for (let v = n; v >= 128; v = Math.floor(v / 128)) len++
  return len
}

/**
 * The metadata for committed offset `watermark` and finished `runs`, given as a flat list
 * [start, end, start, end, ...] of positions (offset - watermark - 1): ascending, disjoint, not adjacent,
 * start >= 0, end > start. At most `maxMetadataBytes` characters: when the whole set does not fit, the
 * lowest runs that fit are kept (dropping finished offsets only means doing them again).
 */
export function encodeRuns(watermark: bigint, runs: readonly number[], maxMetadataBytes: number): string {
  if (runs.length === 0) return ''
  const capacity = payloadCapacity(maxMetadataBytes)
  let rleBytes = 0
  let fitPairs = 0
  let fitEnd = 0
  let pos = 0
  for (let i = 0; i < runs.length; i += 2) {
    const start = runs[i]!
    const end = runs[i + 1]!
    rleBytes += varintLength(start - pos) + varintLength(end - start)
    if (rleBytes <= capacity) {
      fitPairs = i + 2
      fitEnd = end
    }
    pos = end
  }
  const span = runs[runs.length - 1]!
  const bitBytes = Math.ceil(span / 8)
  let payload: Uint8Array
  let kind: 'b' | 'r'
  if (Math.min(rleBytes, bitBytes) <= capacity) {
    kind = bitBytes < rleBytes ? 'b' : 'r'
    payload = kind === 'b' ? bitset(runs, runs.length, span) : runLengths(runs, runs.length, rleBytes)
  } else if (capacity * 8 >= fitEnd) {
    // Too large: keep whichever form covers more of the lowest positions.
    kind = 'b'
    payload = bitset(runs, runs.length, capacity * 8)
  } else {
    kind = 'r'
    payload = runLengths(runs, fitPairs, rleLength(runs, fitPairs))
  }
  if (payload.length === 0) return ''
  return `${DONE_PREFIX}${watermark} ${kind}${Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('base64url')}`
}

/** The metadata for committed offset `watermark` and the finished offsets `finished` (those above it count). */
export function encodeFinished(
  watermark: bigint,
  finished: Iterable<OffsetRange>,
  maxMetadataBytes = DEFAULT_MAX_METADATA_BYTES
): string {
  return encodeRuns(watermark, toPositions(watermark + 1n, finished), maxMetadataBytes)
}

/**
 * The offsets finished above `committedOffset` according to `metadata`, as ascending, disjoint, non-adjacent
 * ranges all above `committedOffset`. Empty for metadata that is not ours (none, another tool's, the busy
 * marker), was written for another committed offset, or is malformed. Never throws.
 */
export function decodeFinished(metadata: string | null | undefined, committedOffset: bigint): OffsetRange[] {
  try {
    const runs = decodeRuns(metadata, committedOffset)
    if (!runs) return []
    const origin = BigInt(committedOffset) + 1n
    const out: OffsetRange[] = []
    for (let i = 0; i < runs.length; i += 2) {
      out.push({ start: origin + BigInt(runs[i]!), end: origin + BigInt(runs[i + 1]!) })
    }
    return out
  } catch {
    return []
  }
}

/** Positions (offset - origin) of `ranges` at or above origin, sorted and merged into flat [start, end) pairs. */
export function toPositions(origin: bigint, ranges: Iterable<OffsetRange>): number[] {
  const pairs: [number, number][] = []
  const max = BigInt(Number.MAX_SAFE_INTEGER)
  for (const r of ranges) {
    let start = r.start - origin
    let end = r.end - origin
    if (start < 0n) start = 0n
    if (end > max) end = max
    if (end > start) pairs.push([Number(start), Number(end)])
  }
  pairs.sort((a, b) => a[0] - b[0])
  const out: number[] = []
  for (const [start, end] of pairs) {
    const last = out.length - 1
    if (last > 0 && start <= out[last]!) out[last] = Math.max(out[last]!, end)
    else out.push(start, end)
  }
  return out
}

function rleLength(runs: readonly number[], pairs: number): number {
  let bytes = 0
  let pos = 0
  for (let i = 0; i < pairs; i += 2) {
    bytes += varintLength(runs[i]! - pos) + varintLength(runs[i + 1]! - runs[i]!)
    pos = runs[i + 1]!
  }
  return bytes
}

function runLengths(runs: readonly number[], pairs: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes)
  let at = 0
  const put = (n: number): void => {
    let v = n
    while (v >= 128) {
      out[at++] = (v % 128) | 128
      v = Math.floor(v / 128)
    }
    out[at++] = v
  }
  let pos = 0
  for (let i = 0; i < pairs; i += 2) {
    put(runs[i]! - pos)
    put(runs[i + 1]! - runs[i]!)
    pos = runs[i + 1]!
  }
  return out
}

/** Bits of the positions below `limit`, trailing zero bytes trimmed. */
function bitset(runs: readonly number[], pairs: number, limit: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(Math.min(limit, runs[pairs - 1] ?? 0) / 8))
  for (let i = 0; i < pairs; i += 2) {
    const end = Math.min(runs[i + 1]!, limit)
    for (let p = runs[i]!; p < end; p++) out[p >> 3]! |= 1 << (p & 7)
  }
  let length = out.length
  while (length > 0 && out[length - 1] === 0) length--
  return out.subarray(0, length)
}

function decodeRuns(metadata: string | null | undefined, committedOffset: bigint): number[] | undefined {
  if (typeof metadata !== 'string' || !metadata.startsWith(DONE_PREFIX)) return undefined
  const rest = metadata.slice(DONE_PREFIX.length)
  const space = rest.indexOf(' ')
  // The finished set is relative to the commit it was written with; after a reset it means nothing.
  if (space < 0 || rest.slice(0, space) !== String(committedOffset)) return undefined
  const kind = rest[space + 1]
  const text = rest.slice(space + 2)
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined
  const bytes = Buffer.from(text, 'base64url')
  if (kind === 'r') return fromRunLengths(bytes)
  if (kind === 'b') return fromBitset(bytes)
  return undefined
}

function fromRunLengths(bytes: Uint8Array): number[] | undefined {
  const runs: number[] = []
  let pos = 0
  let at = 0
  let count = 0
  while (at < bytes.length) {
    let value = 0
    let scale = 1
    let done = false
    for (let n = 0; n < MAX_VARINT_BYTES && at < bytes.length; n++) {
      const b = bytes[at++]!
      value += (b & 127) * scale
      scale *= 128
      if (b < 128) {
        done = true
        break
      }
    }
    if (!done) return undefined
    const finished = count % 2 === 1
    // Zero-length runs (but the first) are never written: reject them as garbage.
    if (value === 0 && count > 0) return undefined
    const next = pos + value
    if (next > Number.MAX_SAFE_INTEGER) return undefined
    if (finished) runs.push(pos, next)
    pos = next
    count++
  }
  return count % 2 === 0 ? runs : undefined
}

function fromBitset(bytes: Uint8Array): number[] {
  const runs: number[] = []
  let open = -1
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    // Whole bytes at once: the common all-set / all-clear cases.
    if ((b === 0 && open < 0) || (b === 255 && open >= 0)) continue
    for (let bit = 0; bit < 8; bit++) {
      const set = (b >> bit) & 1
      const p = i * 8 + bit
      if (set && open < 0) open = p
      else if (!set && open >= 0) {
        runs.push(open, p)
        open = -1
      }
    }
  }
  if (open >= 0) runs.push(open, bytes.length * 8)
  return runs
}
