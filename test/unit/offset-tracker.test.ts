import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  DEFAULT_MAX_METADATA_BYTES,
  DONE_PREFIX,
  decodeFinished,
  encodeFinished,
  type OffsetRange,
  payloadCapacity
} from '../../src/consumer/offset-codec.ts'
import { OffsetTracker } from '../../src/consumer/offset-tracker.ts'

/** mulberry32: a tiny seeded PRNG, so every random case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const below = (rnd: () => number, n: number): number => Math.floor(rnd() * n)

const r = (start: number | bigint, end: number | bigint): OffsetRange => ({ start: BigInt(start), end: BigInt(end) })

/** Every offset in `ranges`, minus `origin`, as numbers. */
function expand(ranges: readonly OffsetRange[], origin = 0n): number[] {
  const out: number[] = []
  for (const { start, end } of ranges) for (let o = start; o < end; o++) out.push(Number(o - origin))
  return out
}

/** Ascending, disjoint, non-adjacent, non-empty, all above `above`. */
function assertCanonical(ranges: readonly OffsetRange[], above: bigint, what: string): void {
  let prevEnd: bigint | undefined
  for (const { start, end } of ranges) {
    assert.equal(typeof start, 'bigint', what)
    assert.ok(start > above, `${what}: ${start} must be above ${above}`)
    assert.ok(end > start, `${what}: empty range ${start}..${end}`)
    if (prevEnd !== undefined) assert.ok(start > prevEnd, `${what}: ranges not disjoint and apart`)
    prevEnd = end
  }
}

describe('OffsetTracker: watermark and finished offsets', () => {
  test('in order: the watermark follows each completion; nothing finished above it, so no metadata', () => {
    const t = new OffsetTracker(100n)
    assert.equal(t.watermark(), 100n)
    for (let o = 100n; o < 105n; o++) assert.equal(t.take(o), true)
    assert.equal(t.inFlight, 5)
    assert.equal(t.watermark(), 100n)
    for (let o = 100n; o < 105n; o++) {
      assert.equal(t.complete(o), true)
      assert.equal(t.watermark(), o + 1n)
      assert.deepEqual(t.finishedAbove(), [])
      assert.equal(t.encode(), '')
    }
    assert.equal(t.inFlight, 0)
    assert.equal(t.position, 105n)
  })

  test('out of order: a slow record holds the watermark; the ones after it are finished above', () => {
    const t = new OffsetTracker(100n)
    for (let o = 100n; o < 106n; o++) t.take(o)
    t.complete(102n)
    t.complete(104n)
    t.complete(101n)
    assert.equal(t.watermark(), 100n)
    assert.deepEqual(t.finishedAbove(), [r(101, 103), r(104, 105)])
    t.complete(100n)
    assert.equal(t.watermark(), 103n)
    assert.deepEqual(t.finishedAbove(), [r(104, 105)])
    t.complete(105n)
    assert.equal(t.watermark(), 103n)
    assert.deepEqual(t.finishedAbove(), [r(104, 106)])
    t.complete(103n)
    assert.equal(t.watermark(), 106n)
    assert.deepEqual(t.finishedAbove(), [])
  })

  test('gaps between fetched offsets (compaction, transaction markers) count as done', () => {
    const t = new OffsetTracker(100n)
    t.take(100n)
    t.take(103n)
    t.take(104n)
    t.complete(104n)
    assert.equal(t.watermark(), 100n)
    assert.deepEqual(t.finishedAbove(), [r(101, 103), r(104, 105)])
    t.complete(100n)
    assert.equal(t.watermark(), 103n, '101 and 102 do not exist: they must not block')
    t.complete(103n)
    assert.equal(t.watermark(), 105n)
  })

  test('the first record above the start offset, and advanceTo past a marker ending the log', () => {
    const t = new OffsetTracker(100n)
    t.take(102n)
    assert.equal(t.watermark(), 102n)
    t.complete(102n)
    assert.equal(t.watermark(), 103n, 'not past what was fetched')
    t.advanceTo(105n)
    assert.equal(t.watermark(), 105n)
    t.advanceTo(104n)
    assert.equal(t.position, 105n, 'advanceTo never moves back')
    assert.equal(t.take(104n), false, 'below the fetch position')
  })

  test('skip: a fetched record that is not run counts as done', () => {
    const t = new OffsetTracker(0n)
    t.take(0n)
    t.skip(1n)
    t.take(2n)
    t.complete(2n)
    assert.deepEqual(t.finishedAbove(), [r(1, 3)])
    t.complete(0n)
    assert.equal(t.watermark(), 3n)
  })

  test('duplicates: a re-delivered offset is not taken again, a second complete is refused', () => {
    const t = new OffsetTracker(10n)
    assert.equal(t.take(10n), true)
    assert.equal(t.take(10n), false)
    assert.equal(t.take(9n), false, 'below the start offset')
    assert.equal(t.shouldSkip(10n), true)
    assert.equal(t.complete(10n), true)
    assert.equal(t.complete(10n), false)
    assert.equal(t.complete(11n), false, 'never taken')
    assert.equal(t.complete(3n), false)
    assert.equal(t.inFlight, 0)
    assert.equal(t.watermark(), 11n)
  })

  test('offsets far above 2^53 work (only their distance to the start offset is a number)', () => {
    const base = 2n ** 62n + 12345n
    const t = new OffsetTracker(base)
    t.take(base)
    t.take(base + 1n)
    t.complete(base + 1n)
    assert.equal(t.watermark(), base)
    const meta = t.encode()
    assert.ok(meta.startsWith(`${DONE_PREFIX}${base} `))
    assert.deepEqual(decodeFinished(meta, base), [r(base + 1n, base + 2n)])
    assert.equal(t.complete(base + 2n ** 60n), false)
    assert.throws(() => t.take(base + 2n ** 53n), RangeError, 'further than 2^53 from the start offset')
  })

  test('a bad maxMetadataBytes is refused', () => {
    assert.throws(() => new OffsetTracker(0n, { maxMetadataBytes: -1 }), RangeError)
    assert.throws(() => new OffsetTracker(0n, { maxMetadataBytes: 1.5 }), RangeError)
  })
})

describe('OffsetTracker: restart from the commit metadata', () => {
  test('finished records are skipped, the others run again', () => {
    const before = new OffsetTracker(100n)
    for (let o = 100n; o < 110n; o++) before.take(o)
    for (const o of [101n, 103n, 105n, 106n, 107n, 108n, 109n]) before.complete(o)
    const committed = before.watermark()
    const meta = before.encode()
    assert.equal(committed, 100n)
    assert.deepEqual(decodeFinished(meta, committed), [r(101, 102), r(103, 104), r(105, 110)])

    const t = OffsetTracker.fromCommit(committed, meta)
    const run: bigint[] = []
    for (let o = 100n; o < 112n; o++) {
      assert.equal(t.shouldSkip(o), [101n, 103n, 105n, 106n, 107n, 108n, 109n].includes(o), String(o))
      if (t.take(o)) run.push(o)
    }
    assert.deepEqual(run, [100n, 102n, 104n, 110n, 111n])
    t.complete(100n)
    assert.equal(t.watermark(), 102n)
    t.complete(104n)
    t.complete(102n)
    assert.equal(t.watermark(), 110n, 'through the records finished before the restart')
    t.complete(111n)
    assert.deepEqual(t.finishedAbove(), [r(111, 112)])
    t.complete(110n)
    assert.equal(t.watermark(), 112n)
  })

  test('the watermark passes seeded runs before they are fetched again', () => {
    const t = new OffsetTracker(100n, { finished: [r(101, 104), r(106, 107)] })
    assert.equal(t.watermark(), 100n)
    assert.deepEqual(t.finishedAbove(), [r(101, 104), r(106, 107)])
    t.take(100n)
    t.complete(100n)
    assert.equal(t.watermark(), 104n)
    assert.deepEqual(t.finishedAbove(), [r(106, 107)])
    assert.equal(t.take(101n), false)
    t.take(104n)
    assert.equal(t.watermark(), 104n)
    assert.deepEqual(t.finishedAbove(), [r(106, 107)], '105 is not fetched yet: not done')
    t.skip(105n)
    assert.deepEqual(t.finishedAbove(), [r(105, 107)], 'passed: done')
    t.complete(104n)
    assert.equal(t.watermark(), 107n)
  })

  test('seeds are normalised: unsorted, overlapping, below the start offset', () => {
    const t = new OffsetTracker(10n, { finished: [r(15, 17), r(3, 12), r(16, 20), r(30, 30)] })
    assert.equal(t.watermark(), 12n, '10 and 11 are finished per the seed')
    assert.deepEqual(t.finishedAbove(), [r(15, 20)])
  })

  test('metadata that is not ours, or for another committed offset, finishes nothing', () => {
    const meta = encodeFinished(100n, [r(101, 105)])
    assert.deepEqual(decodeFinished(meta, 100n), [r(101, 105)])
    for (const other of [
      null,
      undefined,
      '',
      'some other tool',
      'lagscale-busy/1 {"m":"member-1","u":1700000000000}',
      `${DONE_PREFIX}100`,
      `${DONE_PREFIX}100 `,
      `${DONE_PREFIX}100 x${meta.slice(-4)}`
    ]) {
      assert.deepEqual(decodeFinished(other, 100n), [], String(other))
      const t = OffsetTracker.fromCommit(100n, other)
      assert.equal(t.shouldSkip(101n), false)
    }
    assert.deepEqual(decodeFinished(meta, 99n), [], 'committed offset moved back (reset): run everything again')
    assert.deepEqual(decodeFinished(meta, 101n), [])
    assert.deepEqual(decodeFinished(meta, -1n), [])
  })
})

describe('commit metadata encoding', () => {
  test('pinned format: bitset or run lengths, whichever is shorter', () => {
    // Positions count from the committed offset + 1: 102, 103 are positions 1, 2 -> bits 0b110.
    assert.equal(encodeFinished(100n, [r(102, 104)]), 'lagscale-done/1 100 bBg')
    // Runs: 1 not finished, 1000 finished -> varints 01 e8 07.
    assert.equal(encodeFinished(0n, [r(2, 1002)]), 'lagscale-done/1 0 rAegH')
    assert.equal(encodeFinished(5n, []), '')
    assert.equal(encodeFinished(5n, [r(0, 6)]), '', 'nothing above the committed offset')
  })

  test('malformed metadata of ours decodes to nothing', () => {
    const ok = `${DONE_PREFIX}0 rAegH` // runs 1, 1000
    assert.deepEqual(decodeFinished(ok, 0n), [r(2, 1002)])
    const b64 = (...bytes: number[]): string => Buffer.from(bytes).toString('base64url')
    for (const bad of [
      `${ok}A`, // not a base64 length
      `${DONE_PREFIX}0 rAQE+AQ`, // not base64url (Buffer would read it as AQE-AQ)
      `${DONE_PREFIX}0 r${b64(1, 1, 1)}`, // odd number of runs
      `${DONE_PREFIX}0 r${b64(1, 0xe8)}`, // varint cut short
      `${DONE_PREFIX}0 r${b64(1, 1, 0, 1)}`, // empty run inside
      `${DONE_PREFIX}0 r${b64(0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0, 1)}`, // varint longer than 8 bytes
      `${DONE_PREFIX}0 r${b64(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1)}`, // above 2^53
      `${DONE_PREFIX}00 rAegH`, // another spelling of the offset
      `${DONE_PREFIX} 0 rAegH`
    ]) {
      assert.deepEqual(decodeFinished(bad, 0n), [], bad)
    }
  })

  test('worst case: any pattern within 23,776 offsets above the watermark fits in 4000 bytes', () => {
    assert.equal(payloadCapacity(DEFAULT_MAX_METADATA_BYTES), 2972)
    const w = 9_000_000_000_000_000_000n // 19 digits: the longest header
    const alternating = (positions: number): OffsetRange[] => {
      const out: OffsetRange[] = []
      for (let p = 0; p < positions; p += 2) out.push(r(w + 1n + BigInt(p), w + 2n + BigInt(p)))
      return out
    }
    const fits = alternating(23_776)
    const meta = encodeFinished(w, fits)
    assert.ok(meta.length <= DEFAULT_MAX_METADATA_BYTES, `${meta.length}`)
    assert.equal(meta[DONE_PREFIX.length + 20], 'b')
    assert.deepEqual(decodeFinished(meta, w), fits)
    // One more finished offset does not fit: the highest is dropped (it would run again), nothing else.
    const over = alternating(23_777)
    const cut = decodeFinished(encodeFinished(w, over), w)
    assert.deepEqual(cut, fits)
  })

  test('typical case: one slow record and 200k finished after it take a few bytes', () => {
    const t = new OffsetTracker(1000n)
    for (let o = 1000n; o < 201_001n; o++) {
      assert.ok(t.canTake(o))
      t.take(o)
      if (o > 1000n) t.complete(o)
    }
    const meta = t.encode()
    assert.ok(meta.length < 40, meta)
    assert.deepEqual(decodeFinished(meta, 1000n), [r(1001, 201_001)])
  })

  test('too large: the lowest finished offsets that fit are kept, within the limit', () => {
    // Long runs far apart: run lengths keep 4 runs in 17 payload bytes, a bitset would cover 136 offsets.
    const wide: OffsetRange[] = []
    for (let s = 1n; s < 200_000n; s += 2000n) wide.push(r(s, s + 1000n))
    assert.deepEqual(decodeFinished(encodeFinished(0n, wide, 60), 0n), wide.slice(0, 4))
    // Short runs close together: a bitset of the lowest 136 positions beats 4 runs.
    const narrow: OffsetRange[] = []
    for (let s = 1n; s < 2000n; s += 2n) narrow.push(r(s, s + 1n))
    assert.deepEqual(decodeFinished(encodeFinished(0n, narrow, 60), 0n), narrow.slice(0, 68))
    const rnd = prng(7)
    for (let c = 0; c < 200; c++) {
      const w = BigInt(below(rnd, 1000))
      const finished: OffsetRange[] = []
      let o = w + 1n + BigInt(below(rnd, 3))
      for (let i = below(rnd, 400); i > 0; i--) {
        const len = BigInt(1 + below(rnd, rnd() < 0.2 ? 300 : 3))
        finished.push(r(o, o + len))
        o += len + 1n + BigInt(below(rnd, rnd() < 0.2 ? 100_000 : 4))
      }
      const max = 37 + below(rnd, 200)
      const meta = encodeFinished(w, finished, max)
      assert.ok(meta.length <= max, `case ${c}: ${meta.length} > ${max}`)
      const got = expand(decodeFinished(meta, w))
      const all = expand(finished)
      const top = got.length > 0 ? got[got.length - 1]! : -1
      assert.deepEqual(
        got,
        all.filter((x) => x <= top),
        `case ${c}: a prefix of the finished offsets`
      )
    }
  })
})

describe('property tests (seeded)', () => {
  test('a worker simulation: watermark, finished set, round trip, size bound, restarts', () => {
    type Model = { start: number; frontier: number; inFlight: Set<number>; seeded: Set<number>; seedTop: number }
    const done = (m: Model, o: number): boolean =>
      o < m.start || m.seeded.has(o) || (o < m.frontier && !m.inFlight.has(o))
    const refWatermark = (m: Model): number => {
      let o = m.start
      while (done(m, o)) o++
      return o
    }
    const refFinished = (m: Model, w: number): number[] => {
      const out: number[] = []
      for (let o = w + 1; o < Math.max(m.frontier, m.seedTop); o++) if (done(m, o)) out.push(o)
      return out
    }
    const stats = { refused: 0, restarts: 0, skippedAfterRestart: 0, bitset: 0, runs: 0 }

    for (let c = 0; c < 1200; c++) {
      const rnd = prng(c + 1)
      const origin = [0n, 7n, 2n ** 40n + BigInt(below(rnd, 1000)), 2n ** 62n][below(rnd, 4)]!
      const maxBytes = [4000, 4000, 120, 70, 50, 40][below(rnd, 6)]!
      const cap = 1 + below(rnd, 24)
      const log: number[] = []
      for (let o = below(rnd, 3), i = 0; i < 300; i++, o += rnd() < 0.8 ? 1 : 1 + below(rnd, 6)) log.push(o)
      const at = (rel: number): bigint => origin + BigInt(rel)

      let t = new OffsetTracker(origin, { maxMetadataBytes: maxBytes })
      let m: Model = { start: 0, frontier: 0, inFlight: new Set(), seeded: new Set(), seedTop: 0 }
      let next = 0
      for (let step = 0; step < 300; step++) {
        const what = `case ${c} step ${step}`
        const dice = rnd()
        if (dice < 0.5 && next < log.length && m.inFlight.size < cap) {
          const rel = log[next]!
          const seeded = m.seeded.has(rel)
          assert.equal(t.shouldSkip(at(rel)), seeded, `${what}: shouldSkip(${rel})`)
          if (!t.canTake(at(rel))) {
            assert.ok(m.inFlight.size > 0, `${what}: refused with nothing in flight`)
            stats.refused++ // the worker holds the record until the watermark moves
          } else if (seeded) {
            if (rnd() < 0.5) t.skip(at(rel))
            else assert.equal(t.take(at(rel)), false, `${what}: take of a finished record`)
            m.frontier = rel + 1
            next++
            stats.skippedAfterRestart++
          } else if (rnd() < 0.1) {
            t.skip(at(rel))
            m.frontier = rel + 1
            next++
          } else {
            assert.equal(t.take(at(rel)), true, `${what}: take(${rel})`)
            m.inFlight.add(rel)
            m.frontier = rel + 1
            next++
          }
        } else if (dice < 0.9 && m.inFlight.size > 0) {
          const list = [...m.inFlight]
          const rel = list[below(rnd, list.length)]!
          assert.equal(t.complete(at(rel)), true, `${what}: complete(${rel})`)
          m.inFlight.delete(rel)
          if (rnd() < 0.05) assert.equal(t.complete(at(rel)), false, `${what}: second complete`)
        } else if (dice < 0.95 && next < log.length) {
          // The fetch position passed offsets without records, up to the next record.
          const p = log[next]!
          if (p > m.frontier && t.canTake(at(p - 1))) {
            t.advanceTo(at(p))
            m.frontier = p
          }
        } else {
          // Crash and restart: the next owner starts at the commit and skips what it says was finished.
          const w = refWatermark(m)
          const finished = refFinished(m, w)
          t = OffsetTracker.fromCommit(t.watermark(), t.encode(), { maxMetadataBytes: maxBytes })
          m = {
            start: w,
            frontier: w,
            inFlight: new Set(),
            seeded: new Set(finished),
            seedTop: (finished.at(-1) ?? w) + 1
          }
          next = log.findIndex((o) => o >= w)
          if (next < 0) next = log.length
          stats.restarts++
        }

        const w = refWatermark(m)
        assert.equal(t.watermark(), at(w), `${what}: watermark`)
        const finished = refFinished(m, w)
        assert.deepEqual(expand(t.finishedAbove(), origin), finished, `${what}: finishedAbove`)
        const meta = t.encode()
        assert.ok(meta.length <= maxBytes, `${what}: ${meta.length} > ${maxBytes}`)
        // Exact, not only within the limit: every take was allowed by canTake.
        assert.deepEqual(expand(decodeFinished(meta, t.watermark()), origin), finished, `${what}: round trip`)
        if (meta !== '') stats[meta[meta.indexOf(' ', DONE_PREFIX.length) + 1] === 'b' ? 'bitset' : 'runs']++
      }
    }
    // The properties above were exercised, not vacuously true.
    for (const [k, v] of Object.entries(stats)) assert.ok(v > 100, `${k}: ${v}`)
  })

  test('codec round trip: any set that fits decodes to itself', () => {
    const rnd = prng(42)
    for (let c = 0; c < 1000; c++) {
      const w = rnd() < 0.5 ? BigInt(below(rnd, 1e9)) : 2n ** 63n - 2n ** 50n
      const finished: OffsetRange[] = []
      let o = w + 1n + BigInt(below(rnd, 3))
      // Dense within a short span (fits as a bitset) or few runs with huge lengths (fits as run lengths).
      const dense = rnd() < 0.5
      for (let i = below(rnd, dense ? 2000 : 150); i > 0; i--) {
        const len = BigInt(dense ? 1 + below(rnd, 4) : 1 + below(rnd, 2 ** 40))
        finished.push(r(o, o + len))
        o += len + BigInt(dense ? 1 + below(rnd, 4) : 1 + below(rnd, 2 ** 40))
      }
      const meta = encodeFinished(w, finished)
      assert.ok(meta.length <= DEFAULT_MAX_METADATA_BYTES)
      assert.deepEqual(decodeFinished(meta, w), finished, `case ${c}`)
    }
  })

  test('decoding garbage never throws and never claims the committed offset or below', () => {
    const rnd = prng(99)
    const alphabet = 'AZaz09-_+/= \n{}"lagscale-done/1é\u0000'
    const valid = [
      encodeFinished(100n, [r(101, 200), r(300, 301)]),
      encodeFinished(100n, [r(102, 104), r(106, 107)]),
      encodeFinished(100n, [r(101, 102), r(2n ** 52n, 2n ** 53n)])
    ]
    for (let c = 0; c < 5000; c++) {
      let text: string
      const kind = below(rnd, 3)
      if (kind === 0) {
        text = ''
        for (let i = below(rnd, 60); i > 0; i--) text += alphabet[below(rnd, alphabet.length)]
      } else if (kind === 1) {
        const bytes = new Uint8Array(below(rnd, 40)).map(() => below(rnd, 256))
        text = `${DONE_PREFIX}100 ${'rbx'[below(rnd, 3)]}${Buffer.from(bytes).toString('base64url')}`
        if (rnd() < 0.3) text = text.slice(0, below(rnd, text.length + 1))
      } else {
        const chars = [...valid[below(rnd, valid.length)]!]
        for (let i = 1 + below(rnd, 3); i > 0; i--) {
          const p = below(rnd, chars.length)
          if (rnd() < 0.5) chars[p] = alphabet[below(rnd, alphabet.length)]!
          else chars.splice(p, 1)
        }
        text = chars.join('')
      }
      const committed = rnd() < 0.8 ? 100n : BigInt(below(rnd, 300) - 1)
      let got: OffsetRange[] = []
      assert.doesNotThrow(() => {
        got = decodeFinished(text, committed)
      }, JSON.stringify(text))
      assert.ok(Array.isArray(got))
      assertCanonical(got, committed, JSON.stringify(text))
      assert.doesNotThrow(() => OffsetTracker.fromCommit(committed, text).watermark())
    }
  })
})

describe('back-pressure (canTake)', () => {
  test('refuses while the state would not fit, allows again once the watermark moves', () => {
    // 60 bytes leave 17 payload bytes: a bitset of 136 positions above the watermark.
    const t = new OffsetTracker(0n, { maxMetadataBytes: 60 })
    assert.equal(payloadCapacity(60), 17)
    t.take(0n)
    let o = 1n
    // Every other record finishes at once, so the state alternates and needs the bitset.
    while (t.canTake(o)) {
      t.take(o)
      if (o % 2n === 1n) t.complete(o)
      o++
      assert.ok(o < 1000n, 'canTake never refused')
    }
    assert.equal(o, 137n)
    const meta = t.encode()
    assert.ok(meta.length <= 60)
    assert.deepEqual(expand(decodeFinished(meta, 0n)), expand(t.finishedAbove()))
    assert.equal(t.canTake(o - 1n), true, 'taken already: no growth')
    for (let x = 0n; x < o; x += 2n) t.complete(x)
    assert.equal(t.inFlight, 0)
    assert.equal(t.canTake(o + 10_000n), true, 'nothing in flight: never stalls')
  })

  test('a seed larger than the limit does not stall the partition; its top is dropped', () => {
    const seed: OffsetRange[] = []
    for (let p = 2n; p < 2000n; p += 2n) seed.push(r(p, p + 1n))
    const t = new OffsetTracker(0n, { finished: seed, maxMetadataBytes: 100 })
    assert.equal(t.canTake(0n), true)
    t.take(0n)
    assert.equal(t.canTake(1n), false)
    const meta = t.encode()
    assert.ok(meta.length <= 100)
    const got = expand(decodeFinished(meta, 0n))
    assert.ok(got.length > 0 && got.length < seed.length)
    assert.deepEqual(got, expand(seed).slice(0, got.length))
    t.complete(0n)
    assert.equal(t.canTake(1n), true)
  })
})
