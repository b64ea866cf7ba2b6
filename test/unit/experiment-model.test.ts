/** The experiment's pure parts: the lower bound, the load and the start-up model given to the simulator. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { lowerBound } from '../../src/experiment/analysis.ts'
import { caseLoad } from '../../src/experiment/load.ts'
import { startupModel } from '../../src/experiment/predict.ts'
import { experimentTiming } from '../../src/experiment/timing.ts'
import type { CaseSpec } from '../../src/experiment/types.ts'

const spec = (partitions: number, concurrency = 1, ordering: CaseSpec['ordering'] = 'partition'): CaseSpec => ({
  id: 'x',
  partitions,
  policy: 'drain',
  records: 0,
  concurrency,
  ordering
})
const timing = experimentTiming(100, 0) // interval 1 s (not below 1 s), max 8

test('lower bound, 1 partition: all the work one after another, no scale-out to notice', () => {
  const load = { values: [1, 2, 3], partitions: [0, 0, 0], partitionCount: 1 }
  const b = lowerBound(spec(1), load, timing)
  assert.deepEqual([b.ms, b.workMs, b.heaviestPartitionMs, b.usableParallelism, b.detectionMs], [600, 600, 600, 1, 0])
})

test('lower bound, 8 partitions: the heaviest partition or work / 8, plus one interval to notice', () => {
  const load = { values: [10, 1, 1, 1, 1, 1, 1, 1], partitions: [0, 1, 2, 3, 4, 5, 6, 7], partitionCount: 8 }
  const b = lowerBound(spec(8), load, timing)
  // heaviest partition 1000 ms > work / 8 = 212.5 ms; the pool must grow from 1: + 1000 ms.
  assert.deepEqual([b.ms, b.longestRecordMs, b.heaviestPartitionMs, b.detectionMs], [2000, 1000, 1000, 1000])
  const even = { values: Array(16).fill(4), partitions: [...Array(16).keys()].map((i) => i % 8), partitionCount: 8 }
  assert.equal(lowerBound(spec(8), even, timing).ms, 800 + 1000, 'two records of 400 ms per partition')
})

test('lower bound, 1 partition with --concurrency 8 unordered: 8 records at once on one consumer, nothing to notice', () => {
  const load = { values: Array(16).fill(5), partitions: Array(16).fill(0), partitionCount: 1 }
  const b = lowerBound(spec(1, 8, 'unordered'), load, timing)
  assert.equal(b.heaviestPartitionMs, undefined, 'records of a partition overlap')
  assert.deepEqual([b.usableParallelism, b.detectionMs, b.ms], [8, 0, 1000])
})

test('the load: seeded, the seed 100 records of 0..10, round robin over the partitions', () => {
  const a = caseLoad(100, 8)
  assert.deepEqual(caseLoad(100, 8), a, 'the same seed, the same records')
  assert.equal(a.values.length, 100)
  assert.ok(a.values.every((v) => Number.isInteger(v) && v >= 0 && v <= 10))
  assert.deepEqual(a.partitions.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 0, 1])
  assert.notDeepEqual(caseLoad(100, 8, 2).values, a.values, 'another seed, other values')
})

test('start-up model: one alone is the base; each other process starting at once adds an equal share', () => {
  // 1 -> 8 (7 together) took 5000 ms, one alone 1450 ms to its assignment, 1400 ms without the pause: 7 = 1400 + 6 x 600.
  assert.deepEqual(startupModel({ startupMs: 5000, rebalancePauseMs: 50, singleStartMs: 1450, workers: 8 }), {
    startupMs: 1400,
    startupPerConcurrentMs: 600
  })
  // Without the lone start, or when it was not faster: one start-up for all.
  assert.deepEqual(startupModel({ startupMs: 5000, rebalancePauseMs: 50 }), {
    startupMs: 5000,
    startupPerConcurrentMs: 0
  })
  assert.deepEqual(startupModel({ startupMs: 1000, rebalancePauseMs: 50, singleStartMs: 1200, workers: 8 }), {
    startupMs: 1000,
    startupPerConcurrentMs: 0
  })
})
