import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createPolicy, datapoints } from '../../src/autoscaler/policy/index.ts'
import type { SeedOptionsInput } from '../../src/autoscaler/policy/options.ts'
import type { Observation, ScalerState } from '../../src/autoscaler/types.ts'
import { observation, policyInput, T0, TOPIC } from '../support/observations.ts'

const MIN = 60_000

/** An observation whose lag sits on partition 0 of `partitions`. */
const obs = (at: number, lag: number, partitions = 1, stale = false): Observation =>
  observation(
    at,
    Array.from({ length: partitions }, (_, i) => (i === 0 ? lag : 0)),
    {},
    { stale }
  )

/** One observation every 15 s from `from` (inclusive) to `to` (exclusive), lag from `lagAt`. */
const series = (from: number, to: number, lagAt: (at: number) => number, partitions = 1): Observation[] => {
  const out: Observation[] = []
  for (let at = from; at < to; at += 15_000) out.push(obs(at, lagAt(at), partitions))
  return out
}

const decide = (history: Observation[], state: ScalerState, options: SeedOptionsInput = {}, now?: number) =>
  createPolicy('seed', options)(policyInput(history, state, {}, now))

describe('datapoints (CloudWatch periods)', () => {
  test('Maximum per complete period, aligned to the clock; the current period is left out', () => {
    const history = [
      obs(T0 + 5_000, 3),
      obs(T0 + 20_000, 9),
      obs(T0 + 50_000, 4),
      obs(T0 + MIN + 10_000, 0),
      obs(T0 + 2 * MIN + 1_000, 50)
    ]
    const points = datapoints(history, T0 + 2 * MIN + 30_000, MIN, 3)
    assert.deepEqual(points, [
      { start: T0 - MIN, end: T0 },
      { start: T0, end: T0 + MIN, value: 9 },
      { start: T0 + MIN, end: T0 + 2 * MIN, value: 0 }
    ])
  })

  test('stale observations do not count: a period with only stale ones is missing', () => {
    const history = [obs(T0 + 5_000, 7, 1, true), obs(T0 + MIN + 5_000, 0)]
    const points = datapoints(history, T0 + 2 * MIN, MIN, 2)
    assert.equal(points[0]!.value, undefined)
    assert.equal(points[1]!.value, 0)
  })
})

describe('seed policy: scale-out alarm', () => {
  // Lag 100 on the single partition all through the last complete minute.
  const history = series(T0, T0 + MIN + 15_000, () => 100)
  const now = T0 + MIN + 10_000

  test('1 partition with lag, ignorePartitionCap: 8 consumers, as the seed did (7 idle)', () => {
    const d = decide(history, { current: 1 }, { ignorePartitionCap: true }, now)
    assert.equal(d.desired, 8)
    assert.equal(d.action, 'scale-out')
    assert.equal(d.cap, undefined)
    assert.ok(d.reason.includes('SumOffsetLag 100 > 0'), d.reason)
  })

  test('1 partition with lag, default: capped at 1 and the reason says what the seed would have done', () => {
    const d = decide(history, { current: 1 }, {}, now)
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'hold')
    assert.deepEqual(d.cap, { uncapped: 8, usable: 1, recommendedPartitions: 8 })
    assert.ok(d.reason.includes('capped at 1'), d.reason)
    assert.ok(d.reason.includes(`${TOPIC} has 1 partition`), d.reason)
    assert.ok(d.reason.includes('7 more consumers would idle'), d.reason)
    assert.ok(d.reason.includes('seed would have run 8'), d.reason)
  })

  test('1 partition with lag, 8 records of it at once (unordered): still capped at 1, the one consumer works 8 at once', () => {
    const d = createPolicy('seed')(
      policyInput(history, { current: 1 }, { parallelismPerPartition: 8, concurrencyPerConsumer: 8 }, now)
    )
    assert.equal(d.desired, 1)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 1, recommendedPartitions: 8 })
    assert.ok(
      d.reason.includes(
        `capped at 1: ${TOPIC} has 1 partition, 7 more consumers would idle (the seed would have run 8); the consumer works up to 8 records of its partition at once`
      ),
      d.reason
    )
  })

  test('with 8 partitions the cap does not bind', () => {
    const eight = series(T0, T0 + MIN + 15_000, () => 100, 8)
    const d = decide(eight, { current: 1 }, {}, now)
    assert.equal(d.desired, 8)
    assert.equal(d.cap, undefined)
  })

  test('the seed with 8 consumers on 1 partition is brought back to 1 by the cap', () => {
    const d = decide(history, { current: 8 }, {}, now)
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'scale-in')
  })

  test('lag only in the current, incomplete period: no alarm yet', () => {
    const h = [...series(T0, T0 + MIN, () => 0), obs(T0 + MIN + 5_000, 100)]
    const d = decide(h, { current: 1 }, { ignorePartitionCap: true }, T0 + MIN + 10_000)
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'hold')
    assert.ok(d.reason.includes('no alarm'), d.reason)
  })

  test('a single non-zero sample in the period breaches (statistic Maximum)', () => {
    const h = series(T0, T0 + MIN + 15_000, (at) => (at === T0 + 30_000 ? 7 : 0))
    const d = decide(h, { current: 1 }, { ignorePartitionCap: true }, now)
    assert.equal(d.desired, 8)
  })

  test('scaleOutDatapoints 3: needs three breaching periods in a row', () => {
    const two = series(T0 - MIN, T0 + MIN + 15_000, (at) => (at >= T0 ? 100 : 0))
    assert.equal(decide(two, { current: 1 }, { ignorePartitionCap: true, scaleOutDatapoints: 3 }, now).desired, 1)
    const three = series(T0 - 2 * MIN, T0 + MIN + 15_000, () => 100)
    assert.equal(decide(three, { current: 1 }, { ignorePartitionCap: true, scaleOutDatapoints: 3 }, now).desired, 8)
  })

  test('a lag above a higher threshold only', () => {
    assert.equal(decide(history, { current: 1 }, { ignorePartitionCap: true, scaleOutThreshold: 100 }, now).desired, 1)
    assert.equal(decide(history, { current: 1 }, { ignorePartitionCap: true, scaleOutThreshold: 99 }, now).desired, 8)
  })

  test('scaleOutTo and the max bound', () => {
    assert.equal(decide(history, { current: 1 }, { ignorePartitionCap: true, scaleOutTo: 4 }, now).desired, 4)
    const d = decide(history, { current: 1 }, { ignorePartitionCap: true, scaleOutTo: 12 }, now)
    assert.equal(d.desired, 8)
    assert.equal(d.bound, 'max')
  })
})

describe('seed policy: scale-in alarm', () => {
  // 8 partitions so the cap never binds at 8; lag until `zeroFrom`, 0 after.
  const zerosAfter = (zeroFrom: number, end: number) => series(T0 - 10 * MIN, end, (at) => (at < zeroFrom ? 100 : 0), 8)

  test('4 zero periods: hold, counting them', () => {
    const end = T0 + 4 * MIN
    const d = decide(zerosAfter(T0, end + 15_000), { current: 8 }, {}, end + 5_000)
    assert.equal(d.desired, 8)
    assert.equal(d.action, 'hold')
    assert.ok(d.reason.includes('(4 so far)'), d.reason)
  })

  test('5 zero periods: scale in to 1', () => {
    const end = T0 + 5 * MIN
    const d = decide(zerosAfter(T0, end + 15_000), { current: 8 }, {}, end + 5_000)
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'scale-in')
    assert.ok(d.reason.includes('<= 0 in the last 5 periods'), d.reason)
  })

  test('a missing period among the 5 is not breaching: no scale-in', () => {
    const end = T0 + 5 * MIN
    const h = zerosAfter(T0, end + 15_000).filter((o) => o.at < T0 + 2 * MIN || o.at >= T0 + 3 * MIN)
    const d = decide(h, { current: 8 }, {}, end + 5_000)
    assert.equal(d.desired, 8)
    assert.ok(d.reason.includes('(2 so far)'), d.reason)
  })

  test('scaleInTo below min is raised to min', () => {
    const end = T0 + 5 * MIN
    const d = createPolicy('seed', { scaleInTo: 0 })(
      policyInput(zerosAfter(T0, end + 15_000), { current: 8 }, { min: 2 }, end + 5_000)
    )
    assert.equal(d.desired, 2)
    assert.equal(d.bound, 'min')
  })

  test('scaleInDatapoints 2 scales in sooner', () => {
    const end = T0 + 2 * MIN
    const d = decide(zerosAfter(T0, end + 15_000), { current: 8 }, { scaleInDatapoints: 2 }, end + 5_000)
    assert.equal(d.desired, 1)
  })

  test('scale-in respects the scale-in cooldown', () => {
    const end = T0 + 5 * MIN
    const d = createPolicy('seed')(
      policyInput(
        zerosAfter(T0, end + 15_000),
        { current: 8, lastScaleOutAt: end - 55_000 },
        { scaleInCooldownMs: 120_000 },
        end + 5_000
      )
    )
    assert.equal(d.desired, 8)
    assert.ok(d.reason.includes('cooldown, 60 s left'), d.reason)
  })
})
