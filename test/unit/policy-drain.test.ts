import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  type DrainModel,
  drainTimeMs,
  evenSpreadDrain,
  idealDrainTimeMs,
  keepsUp,
  measureWorkTime,
  type PartitionLoad,
  processingRate
} from '../../src/autoscaler/policy/drain-model.ts'
import { createPolicy } from '../../src/autoscaler/policy/index.ts'
import type { DrainOptionsInput } from '../../src/autoscaler/policy/options.ts'
import type { Decision, Observation, ScalerState, ScalingLimits } from '../../src/autoscaler/types.ts'
import {
  observation as obs,
  observationOf as obsOf,
  partitionObservation as part,
  policyInput,
  T0,
  TOPIC
} from '../support/observations.ts'

const NOW = T0 + 600_000

/** Defaults spelled out: the numbers below are computed from them. */
const OPTIONS: DrainOptionsInput = {
  drainTargetMs: 60_000,
  recordTimeMs: 1000,
  rebalancePauseMs: 3000,
  scaleInMargin: 0.8
}

const decide = (
  history: Observation[],
  state: ScalerState,
  options: DrainOptionsInput = {},
  limits: Partial<ScalingLimits> = {}
): Decision => createPolicy('drain', { ...OPTIONS, ...options })(policyInput(history, state, limits, NOW))

const includesAll = (reason: string, parts: string[]) => {
  for (const p of parts) assert.ok(reason.includes(p), `"${p}" in: ${reason}`)
}

const EIGHT_TEN = [10, 10, 10, 10, 10, 10, 10, 10]

describe('drain model', () => {
  const model: DrainModel = {
    workMs: 1000,
    parallelismPerPartition: 1,
    assignor: 'roundrobin',
    rebalancePauseMs: 3000,
    current: 1
  }
  const loads = (lags: number[], produceRate = 0): PartitionLoad[] =>
    lags.map((lag, partition) => ({ topic: 't', partition, lag, produceRate }))

  test('8 x 10 records at 1 s each: 80 s with 1, 40 s + pause with 2, 10 s + pause with 8', () => {
    assert.equal(drainTimeMs(loads(EIGHT_TEN), 1, model), 80_000)
    assert.equal(drainTimeMs(loads(EIGHT_TEN), 2, model), 43_000)
    assert.equal(drainTimeMs(loads(EIGHT_TEN), 8, model), 13_000)
    assert.equal(drainTimeMs(loads(EIGHT_TEN), 12, model), 13_000)
  })

  test('the slowest consumer decides: 3 consumers over 8 partitions get 3, 3, 2', () => {
    assert.equal(drainTimeMs(loads(EIGHT_TEN), 3, model), 33_000)
  })

  test('arrivals slow the drain, and a consumer that cannot keep up never drains', () => {
    // 100 records, 0.5/s arriving, 1/s processed: 100 / 0.5 = 200 s
    assert.equal(drainTimeMs(loads([100], 0.5), 1, model), 200_000)
    assert.equal(drainTimeMs(loads([100], 1), 1, model), Number.POSITIVE_INFINITY)
    // the pause lets 0.5 x 3 = 1.5 more records in: 3 s + 101.5 / 0.5
    assert.equal(drainTimeMs(loads([100], 0.5), 1, { ...model, current: 2 }), 3000 + 203_000)
  })

  test('in-partition parallelism speeds up the one consumer of a partition; a second consumer idles, never shares it', () => {
    // k = C = 2: the partition's one consumer works 2 records at once: 100 x 1 s / 2 = 50 s.
    const k2 = { ...model, parallelismPerPartition: 2, concurrencyPerConsumer: 2 }
    assert.equal(drainTimeMs(loads([100]), 1, k2), 50_000)
    // A 2nd consumer gets no partition: only the rebalance pause is added.
    assert.equal(drainTimeMs(loads([100]), 2, k2), 53_000)
    // k = 2 without concurrency (C = 1): k is taken as C, one record at a time as classic.
    assert.equal(drainTimeMs(loads([100]), 1, { ...model, parallelismPerPartition: 2 }), 100_000)
    assert.equal(drainTimeMs(loads([100]), 2, model), 103_000)
  })

  test('0 consumers never drain a backlog', () => {
    assert.equal(drainTimeMs(loads([1]), 0, model), Number.POSITIVE_INFINITY)
    assert.equal(drainTimeMs(loads([0]), 0, model), 0)
  })

  test('even spread: 400 records over 8 partitions and 8 consumers: 50 s + pause', () => {
    assert.deepEqual(evenSpreadDrain(400, 0, 8, 8, model), { consumers: 8, ms: 53_000 })
    // 10 partitions, max 8: some consumers get 2 partitions of 40 records
    assert.deepEqual(evenSpreadDrain(400, 0, 10, 8, model), { consumers: 8, ms: 83_000 })
  })
})

describe('drain model: in-partition parallelism (w = 100 ms, one slot does 10 records/s)', () => {
  /** --concurrency 8 --ordering unordered: 8 records at once, all of one partition if need be. */
  const unordered: DrainModel = {
    workMs: 100,
    parallelismPerPartition: 8,
    concurrencyPerConsumer: 8,
    assignor: 'roundrobin',
    rebalancePauseMs: 3000,
    current: 1
  }
  /** --concurrency 8 --ordering partition: 8 records at once, 1 of each partition. */
  const partitionOrder: DrainModel = { ...unordered, parallelismPerPartition: 1 }
  const classic: DrainModel = { ...unordered, parallelismPerPartition: 1, concurrencyPerConsumer: 1 }
  const loads = (lags: number[], produceRate = 0): PartitionLoad[] =>
    lags.map((lag, partition) => ({ topic: 't', partition, lag, produceRate }))

  test('1 partition, lag 80, C = k = 8: 1 consumer drains it in 80 x 100 / 8 = 1 s; a 2nd only adds the pause', () => {
    assert.equal(drainTimeMs(loads([80]), 1, unordered), 1000)
    assert.equal(drainTimeMs(loads([80]), 2, unordered), 3000 + 1000)
    assert.equal(drainTimeMs(loads([80]), 8, unordered), 3000 + 1000)
  })

  test('1 partition, lag 80, C = 8, k = 1 (partition ordering): 80 x 100 = 8 s, like classic', () => {
    assert.equal(drainTimeMs(loads([80]), 1, partitionOrder), 8000)
    assert.equal(drainTimeMs(loads([80]), 1, classic), 8000)
  })

  test('2 partitions of 80, C = k = 8: 1 consumer has min(8, 2 x 8) = 8 slots (2 s), 2 consumers 8 each (1 s)', () => {
    assert.equal(drainTimeMs(loads([80, 80]), 1, unordered), 2000)
    assert.equal(drainTimeMs(loads([80, 80]), 2, { ...unordered, current: 2 }), 1000)
    // partition ordering: 1 consumer has min(8, 2 x 1) = 2 slots: 160 x 100 / 2 = 8 s; 2 consumers 1 slot each: 8 s
    assert.equal(drainTimeMs(loads([80, 80]), 1, partitionOrder), 8000)
    assert.equal(drainTimeMs(loads([80, 80]), 2, { ...partitionOrder, current: 2 }), 8000)
    // classic: 1 consumer, 1 record at a time: 16 s
    assert.equal(drainTimeMs(loads([80, 80]), 1, classic), 16_000)
  })

  test('k above C is taken as C: C = 4, k = 8 on 1 partition: 80 x 100 / 4 = 2 s', () => {
    assert.equal(drainTimeMs(loads([80]), 1, { ...unordered, concurrencyPerConsumer: 4 }), 2000)
  })

  test('one partition uses at most k slots: C = 8, k = 2, lags 80 and 8: 80 x 100 / 2 = 4 s, not 88 x 100 / 4', () => {
    assert.equal(drainTimeMs(loads([80, 8]), 1, { ...unordered, parallelismPerPartition: 2 }), 4000)
  })

  test('arrivals: 40/s on 1 partition; 8 slots work 80/s: 80 / (80 - 40) = 2 s; 1 slot (k = 1) never drains', () => {
    assert.equal(drainTimeMs(loads([80], 40), 1, unordered), 2000)
    assert.equal(drainTimeMs(loads([80], 40), 1, partitionOrder), Number.POSITIVE_INFINITY)
  })

  test('even spread: each of min(P, max) consumers has ceil(P / consumers) partitions, min(C, those x k) slots', () => {
    assert.deepEqual(evenSpreadDrain(80, 0, 1, 8, unordered), { consumers: 1, ms: 1000 })
    // 2 partitions of 480: 2 consumers x 8 slots: 480 x 100 / 8 = 6 s + pause
    assert.deepEqual(evenSpreadDrain(960, 0, 2, 8, unordered), { consumers: 2, ms: 9000 })
    // 10 partitions of 40 at 1 s, max 8: 2 partitions per consumer; C = k = 8: 8 slots, 80 x 1 s / 8 = 10 s + pause
    const slow = { ...unordered, workMs: 1000 }
    assert.deepEqual(evenSpreadDrain(400, 0, 10, 8, slow), { consumers: 8, ms: 13_000 })
    // partition ordering: min(8, 2 x 1) = 2 slots: 40 s + pause
    assert.deepEqual(evenSpreadDrain(400, 0, 10, 8, { ...slow, parallelismPerPartition: 1 }), {
      consumers: 8,
      ms: 43_000
    })
  })

  test('ideal drain: n x C slots, at most partitions x k of them', () => {
    assert.equal(idealDrainTimeMs(960, 0, 1, unordered), (960 * 100) / 8)
    // 2 consumers: 16 slots, 960 x 100 / 16 = 6 s + pause
    assert.equal(idealDrainTimeMs(960, 0, 2, unordered), 9000)
    // on 1 partition only k = 8 slots are usable at once: 12 s + pause
    assert.equal(idealDrainTimeMs(960, 0, 2, unordered, 1), 15_000)
  })

  test('keeping up and processing rate: 60/s on 1 partition; 8 slots at 80 % do 64/s, 1 slot 8/s', () => {
    assert.equal(keepsUp(loads([0], 60), 1, unordered, 0.8), true)
    assert.equal(keepsUp(loads([0], 60), 1, partitionOrder, 0.8), false)
    assert.equal(processingRate(loads([80, 80]), 1, unordered), 80)
    assert.equal(processingRate(loads([80, 80]), 1, partitionOrder), 20)
    assert.equal(processingRate(loads([80, 80]), 2, classic), 20)
  })
})

describe('measureWorkTime', () => {
  const owned = (owner: string, consumeRate?: number) => ({ owner, ...(consumeRate ? { consumeRate } : {}) })

  test('busy time / records of the busy consumers', () => {
    const prev = obsOf(NOW - 10_000, [part(0, 100, owned('c1')), part(1, 50, owned('c1')), part(2, 10, owned('c2'))])
    const cur = obsOf(NOW, [part(0, 96, owned('c1', 0.4)), part(1, 48, owned('c1', 0.2)), part(2, 5, owned('c2', 0.5))])
    // c1: 6 records in 10 s; c2: 5 records in 10 s -> 20 s / 11 records
    const w = measureWorkTime([prev, cur], NOW, 300_000, 1, 1000)
    assert.equal(w.measured, true)
    assert.ok(Math.abs(w.ms - 20_000 / 11) < 1e-9, String(w.ms))
    assert.ok(Math.abs(w.records - 11) < 1e-9)
  })

  test('without owners: one consumer per busy partition, at most the members', () => {
    const prev = obs(NOW - 10_000, [20, 20])
    const cur = obs(NOW, [15, 15], { consumeRate: 0.5 })
    // 2 consumers x 10 s / 10 records
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 1, 1000).ms, 2000)
    const member = { memberId: 'm', clientId: 'c', host: 'h', partitions: [] }
    const oneMember = { ...cur, members: [member] }
    assert.equal(measureWorkTime([prev, oneMember], NOW, 300_000, 1, 1000).ms, 1000)
  })

  test('parallelism: w = busy slot-time / records, a busy consumer working min(C, its busy partitions x k) at once', () => {
    // c1 worked 80 records/s on 1 partition for 10 s: 800 records
    const prev = obsOf(NOW - 10_000, [part(0, 880, owned('c1'))])
    const cur = obsOf(NOW, [part(0, 80, owned('c1', 80))])
    // C = k = 8: 8 slots x 10 s / 800 = 100 ms; C = 8, k = 1 (and classic): 1 slot x 10 s / 800 = 12.5 ms
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 8, 1000, 8).ms, 100)
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 1, 1000, 8).ms, 12.5)
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 1, 1000).ms, 12.5)
    // k above C is taken as C: 4 slots
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 8, 1000, 4).ms, 50)
  })

  test('parallelism: 2 busy partitions of one consumer give min(C, 2 x k) slots', () => {
    const prev = obsOf(NOW - 10_000, [part(0, 500, owned('c1')), part(1, 500, owned('c1'))])
    const cur = obsOf(NOW, [part(0, 100, owned('c1', 40)), part(1, 100, owned('c1', 40))])
    // 800 records in 10 s; C = k = 8: min(8, 16) = 8 slots: 100 ms; C = 8, k = 1: 2 slots: 25 ms
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 8, 1000, 8).ms, 100)
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 1, 1000, 8).ms, 25)
  })

  test('parallelism: spare slots of a consumer are not known to be busy, so only its busy partitions count', () => {
    // c1: partition 0 busy (40/s), partition 1 drained and consumed at 10/s as records arrive
    const prev = obsOf(NOW - 10_000, [part(0, 500, owned('c1')), part(1, 0, owned('c1'))])
    const cur = obsOf(NOW, [part(0, 100, owned('c1', 40)), part(1, 0, owned('c1', 10))])
    // C = 8, k = 1: 1 of 8 slots busy for sure: 10 s / 400 records = 25 ms
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 1, 1000, 8).ms, 25)
    // classic: the one slot did all 500: 20 ms
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 1, 1000).ms, 20)
  })

  test('parallelism without owners: busy partitions spread over one consumer each, at most the members', () => {
    const prev = obs(NOW - 10_000, [500, 500])
    const cur = obs(NOW, [100, 100], { consumeRate: 40 })
    // 2 consumers x 8 slots x 10 s / 800 records = 200 ms
    assert.equal(measureWorkTime([prev, cur], NOW, 300_000, 8, 1000, 8).ms, 200)
    // 1 member with both: min(8, 16) = 8 slots: 100 ms
    const member = { memberId: 'm', clientId: 'c', host: 'h', partitions: [] }
    assert.equal(measureWorkTime([prev, { ...cur, members: [member] }], NOW, 300_000, 8, 1000, 8).ms, 100)
  })

  test('a partition that had no lag before was not busy: nothing measured, the fallback', () => {
    const prev = obs(NOW - 10_000, [0])
    const cur = obs(NOW, [3], { consumeRate: 2 })
    assert.deepEqual(measureWorkTime([prev, cur], NOW, 300_000, 1, 700), { ms: 700, measured: false, records: 0 })
  })

  test('intervals with a stale end or before the window do not count', () => {
    const a = obs(NOW - 20_000, [20])
    const b = { ...obs(NOW - 10_000, [15], { consumeRate: 0.5 }), stale: true }
    const c = obs(NOW, [10], { consumeRate: 0.5 })
    assert.equal(measureWorkTime([a, b, c], NOW, 300_000, 1, 700).measured, false)
    assert.equal(measureWorkTime([a, c], NOW, 300_000, 1, 700).measured, true)
    assert.equal(measureWorkTime([a, c], NOW, 15_000, 1, 700).measured, false)
  })
})

describe('drain policy', () => {
  test('8 partitions with 10 records each, 1 s per record assumed: 2 consumers (43 s <= 60 s)', () => {
    const d = decide([obs(NOW, EIGHT_TEN)], { current: 1 })
    assert.equal(d.desired, 2)
    assert.equal(d.action, 'scale-out')
    assert.equal(d.estimatedDrainMs, 43_000)
    assert.equal(d.cap, undefined)
    includesAll(d.reason, ['lag 80', '8 of 8 partitions', 'assumed', '1000 ms', '80 s', '43 s', 'target 60 s'])
  })

  test('a tighter target needs more consumers', () => {
    // 3 consumers: 3 x 10 s + 3 s = 33 s; 4: 23 s
    assert.equal(decide([obs(NOW, EIGHT_TEN)], { current: 1 }, { drainTargetMs: 30_000 }).desired, 4)
  })

  test('1 partition: capped at 1, with the partitions that would meet the target', () => {
    const d = decide([obs(NOW, [400])], { current: 1 })
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'hold')
    // 8 consumers would do it (400 / 8 + 3 = 53 s), 7 would not (60.1 s)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 1, recommendedPartitions: 8 })
    assert.equal(d.estimatedDrainMs, 400_000)
    includesAll(d.reason, [
      'capped at 1',
      `${TOPIC} has 1 partition with lag`,
      '7 more consumers would idle',
      '8 partitions would drain this backlog in ~53 s'
    ])
  })

  test('1 partition, target out of reach even with more partitions: no recommended count, the best it would give', () => {
    // 4000 records: 8 partitions and 8 consumers would still need 500 s + 3 s
    const d = decide([obs(NOW, [4000])], { current: 1 })
    assert.equal(d.desired, 1)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 1 })
    includesAll(d.reason, ['capped at 1', '8 partitions would drain it in ~8.4 min', 'still over the target'])
  })

  test('lag on 1 of 8 partitions (keyed records): capped, no new partitions recommended', () => {
    const d = decide([obs(NOW, [400, 0, 0, 0, 0, 0, 0, 0])], { current: 4 })
    assert.equal(d.desired, 1)
    assert.equal(d.cap?.usable, 1)
    assert.equal(d.cap?.recommendedPartitions, undefined)
    includesAll(d.reason, ['1 of 8 partitions', 'spread evenly over all 8 partitions', '53 s'])
  })

  test('measured work time beats the assumed one', () => {
    // one consumer did 8 x 0.5 records/s for 10 s: 40 records in 10 s = 250 ms each
    const prev = obs(NOW - 10_000, [15, 15, 15, 15, 15, 15, 15, 15], { owner: 'c1' })
    const cur = obs(NOW, EIGHT_TEN, { owner: 'c1', consumeRate: 0.5 })
    const d = decide([prev, cur], { current: 1 })
    assert.equal(d.desired, 1)
    assert.equal(d.estimatedDrainMs, 20_000)
    includesAll(d.reason, ['measured', '250 ms', '40 records'])
    const assumed = decide([cur], { current: 1 })
    assert.equal(assumed.desired, 2)
    assert.ok(assumed.reason.includes('assumed'))
  })

  test('recordTimeMs is the assumed work time', () => {
    assert.equal(decide([obs(NOW, EIGHT_TEN)], { current: 1 }, { recordTimeMs: 500 }).desired, 1)
  })

  test('keeps the current count when it meets the target', () => {
    const d = decide([obs(NOW, EIGHT_TEN)], { current: 2 })
    assert.equal(d.desired, 2)
    assert.equal(d.action, 'hold')
    assert.equal(d.estimatedDrainMs, 40_000)
  })

  test('scales in only to a count that meets scaleInMargin x target', () => {
    // 8 consumers now (10 s); 2 would take 43 s <= 48 s; with margin 0.7 (42 s) only 3 (33 s)
    const history = [obs(NOW - 15_000, EIGHT_TEN), obs(NOW, EIGHT_TEN)]
    const d = decide(history, { current: 8 })
    assert.equal(d.desired, 2)
    assert.equal(d.action, 'scale-in')
    includesAll(d.reason, ['43 s', '48 s'])
    assert.equal(decide(history, { current: 8 }, { scaleInMargin: 0.7 }).desired, 3)
  })

  test('no scale-in while the lag is rising', () => {
    const history = [obs(NOW - 15_000, [9, 9, 9, 9, 9, 9, 9, 9]), obs(NOW, EIGHT_TEN)]
    const d = decide(history, { current: 8 })
    assert.equal(d.desired, 8)
    includesAll(d.reason, ['rising', '72 -> 80'])
  })

  test('cooldown: a scale-out waits, and the estimate is for the count kept', () => {
    const d = decide(
      [obs(NOW, EIGHT_TEN)],
      { current: 1, lastScaleOutAt: NOW - 10_000 },
      {},
      { scaleOutCooldownMs: 60_000 }
    )
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'hold')
    assert.equal(d.estimatedDrainMs, 80_000)
    assert.match(d.reason, /^hold: cooldown, 50 s left before scaling out to 2/)
  })

  test('stale data: hold', () => {
    const d = decide([obs(NOW - 15_000, EIGHT_TEN), { ...obs(NOW, [500]), stale: true }], { current: 1 })
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'hold')
    assert.match(d.reason, /stale/)
    assert.equal(d.estimatedDrainMs, undefined)
  })

  test('bounds: min raises the count, max holds it, both reported', () => {
    const min = decide([obs(NOW, EIGHT_TEN)], { current: 1 }, {}, { min: 4 })
    assert.equal(min.desired, 4)
    assert.equal(min.bound, 'min')
    assert.equal(min.estimatedDrainMs, 23_000)
    const max = decide([obs(NOW, EIGHT_TEN)], { current: 1 }, {}, { max: 1 })
    assert.equal(max.desired, 1)
    assert.equal(max.bound, 'max')
    includesAll(max.reason, ['max 1', '80 s'])
  })

  test('roundrobin and range assignors give different answers for an uneven case', () => {
    // topics a and b with 3 partitions of 10 records; target 40 s
    const history = [
      obsOf(NOW, [
        ...[0, 1, 2].map((i) => part(i, 10, { topic: 'a' })),
        ...[0, 1, 2].map((i) => part(i, 10, { topic: 'b' }))
      ])
    ]
    // roundrobin, 2 consumers: 3 partitions each, 30 s + 3 s
    const rr = decide(history, { current: 1 }, { drainTargetMs: 40_000, assignor: 'roundrobin' })
    assert.equal(rr.desired, 2)
    assert.equal(rr.estimatedDrainMs, 33_000)
    // range, 2 consumers: a0 a1 b0 b1 on consumer 0 (43 s); 3 consumers: 2 each, 23 s
    const range = decide(history, { current: 1 }, { drainTargetMs: 40_000, assignor: 'range' })
    assert.equal(range.desired, 3)
    assert.equal(range.estimatedDrainMs, 23_000)
  })

  test('no lag: back to min, saying so', () => {
    const d = decide([obs(NOW, [0, 0, 0, 0])], { current: 5 })
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'scale-in')
    assert.match(d.reason, /no lag/)
    assert.equal(d.estimatedDrainMs, 0)
  })

  test('no lag: the scale-in cooldown still applies', () => {
    const d = decide(
      [obs(NOW, [0, 0, 0, 0])],
      { current: 5, lastScaleOutAt: NOW - 100_000 },
      {},
      { scaleInCooldownMs: 300_000 }
    )
    assert.equal(d.desired, 5)
    assert.ok(d.reason.includes('200 s left'), d.reason)
  })

  test('no lag but records arriving: the fewest consumers that keep up with a margin, never more than now', () => {
    // 4 x 0.3/s = 1.2/s; a consumer does 1/s, 80 % of it is 0.8/s: 2 consumers (0.6/s each)
    const history = [obs(NOW, [0, 0, 0, 0], { produceRate: 0.3 })]
    const d = decide(history, { current: 4 })
    assert.equal(d.desired, 2)
    includesAll(d.reason, ['no lag', '1.2/s', '2 consumers keep up'])
    assert.equal(decide(history, { current: 1 }).desired, 1)
  })

  test('arrivals faster than max consumers can process: max, saying the backlog never drains', () => {
    const history = [obs(NOW, [10, 10, 10, 10], { produceRate: 1.5 })]
    const d = decide(history, { current: 2 }, {}, { max: 4 })
    assert.equal(d.desired, 4)
    assert.equal(d.bound, 'max')
    assert.equal(d.estimatedDrainMs, undefined)
    includesAll(d.reason, ['never drains', '6/s', '4/s'])
  })

  test('target out of reach but the backlog drains: the count that at least keeps up, fastest', () => {
    // 2 partitions, 100 records each, 0.5/s arriving on each: 1 consumer never catches up (1/s in),
    // 2 consumers need 3 s + (100 + 1.5) / 0.5 = 206 s
    const history = [obs(NOW, [100, 100], { produceRate: 0.5 })]
    const d = decide(history, { current: 1 }, {}, { max: 2 })
    assert.equal(d.desired, 2)
    assert.equal(d.estimatedDrainMs, 206_000)
    includesAll(d.reason, ['at least keep up', '3.4 min'])
  })
})

test('drain: when inflow outruns every count within the partition cap, it takes all usable consumers, not the fewest', () => {
  // 4 partitions, 49 records each, 10 records/s arriving on each; 1 s per record: even 4 consumers fall behind.
  const at = 100_000
  const four = (t: number, lag: number) => obs(t, [lag, lag, lag, lag], { produceRate: 10 })
  const decision = createPolicy('drain')(policyInput([four(at - 5000, 0), four(at, 49)], { current: 1 }, {}, at))
  assert.equal(decision.desired, 4, decision.reason)
  assert.equal(decision.action, 'scale-out')
})

describe('drain policy: in-partition parallelism (a partition still goes to one consumer)', () => {
  /** --concurrency 8 --ordering unordered */
  const UNORDERED: Partial<ScalingLimits> = { parallelismPerPartition: 8, concurrencyPerConsumer: 8 }
  /** --concurrency 8 --ordering partition */
  const PARTITION_ORDER: Partial<ScalingLimits> = { parallelismPerPartition: 1, concurrencyPerConsumer: 8 }
  const FAST = { recordTimeMs: 100 }

  test('1 partition, lag 80, w = 100 ms, C = k = 8: 1 consumer drains it in ~1 s; never more, no partitions recommended', () => {
    const d = decide([obs(NOW, [80])], { current: 1 }, FAST, UNORDERED)
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'hold')
    // 80 x 100 ms / 8 records at once
    assert.equal(d.estimatedDrainMs, 1000)
    // The target is met by the 1 consumer the partition allows: nothing capped, nothing to recommend.
    assert.equal(d.cap, undefined)
    includesAll(d.reason, [
      'lag 80 on 1 of 1 partition',
      'each consumer works up to 8 records at once, 8 of one partition',
      '1 consumer drains it in ~1 s (target 60 s)'
    ])
    assert.ok(!d.reason.includes('partitions would'), d.reason)
  })

  test('1 partition, C = k = 8, 8 consumers running (as the seed left them): 7 idle, back to 1 (pause + 1 s)', () => {
    const d = decide([obs(NOW, [80])], { current: 8 }, FAST, UNORDERED)
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'scale-in')
    assert.equal(d.estimatedDrainMs, 4000)
    assert.equal(d.cap, undefined)
  })

  test('1 partition, C = k = 8: the work time measured with 8 slots busy gives the same 1 s', () => {
    // 800 records in 10 s by the one consumer working 8 at once: 8 x 10 s / 800 = 100 ms each
    const prev = obs(NOW - 10_000, [880], { owner: 'c1' })
    const cur = obs(NOW, [80], { owner: 'c1', consumeRate: 80 })
    const d = decide([prev, cur], { current: 1 }, {}, UNORDERED)
    assert.equal(d.desired, 1)
    assert.equal(d.estimatedDrainMs, 1000)
    includesAll(d.reason, ['work 100 ms per record (measured over 800 records)'])
  })

  test('1 partition, lag 80, w = 100 ms, C = 8, k = 1 (partition ordering): 8 s, like classic', () => {
    const d = decide([obs(NOW, [80])], { current: 1 }, FAST, PARTITION_ORDER)
    assert.equal(d.desired, 1)
    assert.equal(d.estimatedDrainMs, 8000)
    assert.equal(d.cap, undefined)
    includesAll(d.reason, ['8 records at once, 1 of one partition', '1 consumer drains it in ~8 s'])
    const classic = decide([obs(NOW, [80])], { current: 1 }, FAST)
    assert.equal(classic.estimatedDrainMs, 8000)
    assert.ok(!classic.reason.includes('at once'), classic.reason)
  })

  test('1 partition, C = k = 8, target out of reach for the 1 consumer: capped at 1, partitions from the corrected model', () => {
    // 960 x 100 ms / 8 = 12 s > 10 s; 2 consumers with 8 at once each would need 960 / 16 x 100 ms = 6 s + 3 s pause
    const d = decide([obs(NOW, [960])], { current: 1 }, { ...FAST, drainTargetMs: 10_000 }, UNORDERED)
    assert.equal(d.desired, 1)
    assert.equal(d.estimatedDrainMs, 12_000)
    assert.deepEqual(d.cap, { uncapped: 2, usable: 1, recommendedPartitions: 2 })
    includesAll(d.reason, [
      '2 consumers would drain it within 10 s if the lag were spread over enough partitions',
      '1 consumer with 8 records at once drains it in ~12 s',
      `capped at 1: ${TOPIC} has 1 partition with lag, 1 more consumer would idle`,
      '2 partitions would drain this backlog in ~9 s'
    ])
  })

  test('parallelism never adds consumers to a partition: 1 partition, lag 4000 at 1 s, C = k = 8: 1 consumer, not 8', () => {
    // The 1 consumer: 4000 x 1 s / 8 = 500 s; 8 partitions x 1 consumer x 8 at once: 500 x 1 s / 8 + 3 s = 65.5 s
    const d = decide([obs(NOW, [4000])], { current: 1 }, {}, UNORDERED)
    assert.equal(d.desired, 1)
    assert.equal(d.estimatedDrainMs, 500_000)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 1 })
    includesAll(d.reason, [
      '7 more consumers would idle',
      '8 partitions would drain it in ~66 s, still over the target with max 8 consumers'
    ])
  })

  test('2 partitions of 80, C = k = 8: 1 consumer with min(8, 16) = 8 slots takes 2 s, 2 consumers with 8 each 1 s', () => {
    const history = [obs(NOW, [80, 80])]
    const d = decide(history, { current: 1 }, { ...FAST, rebalancePauseMs: 0, drainTargetMs: 1500 }, UNORDERED)
    assert.equal(d.desired, 2)
    assert.equal(d.estimatedDrainMs, 1000)
    includesAll(d.reason, ['1 consumer takes ~2 s', '2 consumers drain it in ~1 s'])
    const relaxed = decide(history, { current: 1 }, { ...FAST, rebalancePauseMs: 0 }, UNORDERED)
    assert.equal(relaxed.desired, 1)
    assert.equal(relaxed.estimatedDrainMs, 2000)
    // partition ordering: 1 consumer works min(8, 2 x 1) = 2 records at once: 160 x 100 ms / 2 = 8 s
    const ordered = decide(history, { current: 1 }, { ...FAST, rebalancePauseMs: 0 }, PARTITION_ORDER)
    assert.equal(ordered.estimatedDrainMs, 8000)
  })

  test('no lag, 15/s on each of 4 partitions: 1 consumer with 8 at once keeps up (64/s at 80 %); 1 per partition cannot', () => {
    const history = [obs(NOW, [0, 0, 0, 0], { produceRate: 15 })]
    const d = decide(history, { current: 4 }, FAST, UNORDERED)
    assert.equal(d.desired, 1)
    includesAll(d.reason, ['1 consumer keeps up'])
    // partition ordering: a partition gets 10/s from its 1 slot, 8/s at 80 %: no count keeps up, the current stays
    assert.equal(decide(history, { current: 4 }, FAST, PARTITION_ORDER).desired, 4)
  })

  test('arrivals faster than 8 slots per partition: never drains, with the processing rate of all slots', () => {
    // 4 partitions, 100/s each; 4 consumers x 8 slots x 10/s = 320/s
    const history = [obs(NOW, [10, 10, 10, 10], { produceRate: 100 })]
    const d = decide(history, { current: 2 }, FAST, { ...UNORDERED, max: 4 })
    assert.equal(d.desired, 4)
    includesAll(d.reason, ['never drains', '400/s produced', '4 consumers can process at most 320/s'])
  })
})

test('drain: a burst within one interval is backlog, not a rate that goes on', () => {
  // 4 partitions; nothing arrived in the intervals before; then 100 records each within 5 s (20/s), once.
  const look = (t: number, lag: number, rate: number) => obs(t, [lag, lag, lag, lag], { produceRate: rate })
  const history = [look(NOW - 10_000, 0, 0), look(NOW - 5000, 0, 0), look(NOW, 100, 20)]
  const decision = createPolicy('drain', { recordTimeMs: 100 })(
    policyInput(history, { current: 1 }, { max: 8, scaleOutCooldownMs: 0 })
  )
  // 400 records x 100 ms: 40 s with 1 consumer, within the 60 s target; as an 80/s inflow it would never drain.
  assert.equal(decision.desired, 1, decision.reason)
  assert.doesNotMatch(decision.reason, /never drain/)
})
