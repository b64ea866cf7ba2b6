import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Job, type Ordering, WorkScheduler } from '../../src/consumer/scheduler.ts'

const job = (partition: number, offset: number, key: string | null = null): Job<string> => ({
  partition,
  offset: BigInt(offset),
  key,
  item: `${partition}:${offset}`
})
const names = (jobs: Job<string>[]): string[] => jobs.map((j) => j.item)

test('partition ordering: one record per partition at a time, partitions in parallel, round robin', () => {
  const s = new WorkScheduler<string>({ concurrency: 3, ordering: 'partition' })
  for (const j of [job(0, 0), job(0, 1), job(0, 2), job(1, 0), job(1, 1)]) s.add(j)
  const first = s.next()
  assert.deepEqual(names(first), ['0:0', '1:0'])
  assert.equal(s.running, 2)
  assert.deepEqual(s.next(), [], 'nothing else may start while both partitions run')
  s.done(first[0]!)
  assert.deepEqual(names(s.next()), ['0:1'])
})

test('concurrency 1, partition ordering: strictly one record at a time (the classic worker)', () => {
  const s = new WorkScheduler<string>({ concurrency: 1, ordering: 'partition' })
  for (const j of [job(0, 0), job(1, 0), job(0, 1)]) s.add(j)
  const a = s.next()
  assert.equal(a.length, 1)
  assert.deepEqual(s.next(), [])
  s.done(a[0]!)
  const b = s.next()
  assert.equal(b.length, 1)
  assert.notEqual(b[0]!.item, a[0]!.item)
})

test('key ordering: same key in order, other keys overlap, keyless records share one key', () => {
  const s = new WorkScheduler<string>({ concurrency: 8, ordering: 'key' })
  for (const j of [job(0, 0, 'a'), job(0, 1, 'a'), job(0, 2, 'b'), job(0, 3, null), job(0, 4, null), job(0, 5, 'c')]) {
    s.add(j)
  }
  const started: string[] = []
  for (let js = s.next(); js.length > 0; js = s.next()) started.push(...names(js))
  assert.deepEqual(started, ['0:0', '0:2', '0:3', '0:5'], 'one per key: a, b, (null), c')
  assert.equal(s.queued, 2)
  s.done(job(0, 0, 'a'))
  assert.deepEqual(names(s.next()), ['0:1'], "a's next record, only after the first")
  s.done(job(0, 3, null))
  assert.deepEqual(names(s.next()), ['0:4'])
})

test('unordered: any record up to the concurrency', () => {
  const s = new WorkScheduler<string>({ concurrency: 4, ordering: 'unordered' })
  for (let o = 0; o < 10; o++) s.add(job(0, o))
  assert.deepEqual(names(s.next()), ['0:0', '0:1', '0:2', '0:3'])
  assert.equal(s.runningOn(0), 4)
  s.done(job(0, 2))
  assert.deepEqual(names(s.next()), ['0:4'])
})

test('dropping a revoked partition removes its queued records, keeps running ones counted', () => {
  const s = new WorkScheduler<string>({ concurrency: 2, ordering: 'unordered' })
  for (const j of [job(0, 0), job(0, 1), job(0, 2), job(1, 0)]) s.add(j)
  assert.deepEqual(names(s.next()), ['0:0', '1:0'], 'round robin over the partitions')
  const dropped = s.dropPartitions((p) => p !== 0)
  assert.deepEqual(names(dropped), ['0:1', '0:2'])
  assert.equal(s.queued, 0)
  assert.equal(s.runningOn(0), 1, 'the running record still counts until it is done')
  assert.deepEqual(s.next(), [])
})

test('property: never more running than the concurrency, never two of a key/partition at once, all run once', () => {
  let seed = 42
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  for (const ordering of ['partition', 'key', 'unordered'] as Ordering[]) {
    for (let round = 0; round < 200; round++) {
      const concurrency = 1 + Math.floor(rand() * 6)
      const s = new WorkScheduler<string>({ concurrency, ordering })
      const all: Job<string>[] = []
      const next = new Map<number, number>()
      for (let i = 0; i < 40; i++) {
        const p = Math.floor(rand() * 3)
        const o = next.get(p) ?? 0
        next.set(p, o + 1)
        all.push(job(p, o, rand() < 0.2 ? null : `k${Math.floor(rand() * 4)}`))
      }
      for (const j of all) s.add(j)
      const running: Job<string>[] = []
      const order: Job<string>[] = []
      while (order.length < all.length) {
        for (const j of s.next()) {
          running.push(j)
          order.push(j)
        }
        assert.ok(running.length <= concurrency)
        if (ordering === 'partition') {
          const ps = running.map((j) => j.partition)
          assert.equal(new Set(ps).size, ps.length, 'one per partition')
        }
        if (ordering === 'key') {
          const ks = running.map((j) => `${j.partition}/${j.key}`)
          assert.equal(new Set(ks).size, ks.length, 'one per key')
        }
        assert.ok(running.length > 0, 'progress')
        const finished = running.splice(Math.floor(rand() * running.length), 1)[0]!
        s.done(finished)
      }
      assert.equal(new Set(order.map((j) => j.item)).size, all.length, 'each record started once')
      if (ordering !== 'unordered') {
        // Per partition (or key), start order is offset order.
        const group = (j: Job<string>) => (ordering === 'partition' ? `${j.partition}` : `${j.partition}/${j.key}`)
        const last = new Map<string, bigint>()
        for (const j of order) {
          const g = group(j)
          assert.ok((last.get(g) ?? -1n) < j.offset, `${g} in order`)
          last.set(g, j.offset)
        }
      }
    }
  }
})
