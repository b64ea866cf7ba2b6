import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createPolicy, kedaPartitionLag } from '../../src/autoscaler/policy/index.ts'
import type { KedaOptionsInput } from '../../src/autoscaler/policy/options.ts'
import type { Decision, Observation, ScalerState, ScalingLimits } from '../../src/autoscaler/types.ts'
import {
  observation as obs,
  observationOf as obsOf,
  partitionObservation as part,
  policyInput,
  T0
} from '../support/observations.ts'

const NOW = T0 + 600_000

const decide = (
  history: Observation[],
  state: ScalerState,
  options: KedaOptionsInput = {},
  limits: Partial<ScalingLimits> = {}
): Decision => createPolicy('keda', options)(policyInput(history, state, limits, NOW))

const EIGHT_45 = [10, 10, 10, 10, 5, 0, 0, 0]

describe('keda: the HPA count ceil(total lag / lagThreshold)', () => {
  test('lag 45 on 8 partitions, threshold 10: 5', () => {
    const d = decide([obs(NOW, EIGHT_45)], { current: 4 })
    assert.equal(d.desired, 5)
    assert.equal(d.action, 'scale-out')
    assert.equal(d.cap, undefined)
    for (const n of ['45', '10', '= 5', '8 partitions']) assert.ok(d.reason.includes(n), `${n} in ${d.reason}`)
  })

  test('threshold 20: ceil(45 / 20) = 3', () => {
    const d = decide([obs(NOW, EIGHT_45)], { current: 4 }, { lagThreshold: 20 })
    assert.equal(d.desired, 3)
    assert.equal(d.action, 'scale-in')
  })

  test('within the 10 % tolerance the count stays; tolerance 0 follows the metric', () => {
    // 42 / (10 x 4) = 1.05
    const lags = [10, 10, 10, 10, 2, 0, 0, 0]
    const d = decide([obs(NOW, lags)], { current: 4 })
    assert.equal(d.desired, 4)
    assert.ok(d.reason.includes('tolerance'), d.reason)
    assert.equal(decide([obs(NOW, lags)], { current: 4 }, { tolerance: 0 }).desired, 5)
  })

  test('scale-up limited to +100 % or +4 per 15 s (HPA default)', () => {
    const lags = [10, 10, 10, 10, 10, 10, 10, 10]
    const d = decide([obs(NOW, lags)], { current: 1 })
    assert.equal(d.desired, 5)
    assert.ok(d.reason.includes('scale-up limit 5'), d.reason)
    const justScaled: Decision = {
      at: NOW - 10_000,
      policy: 'keda',
      desired: 5,
      from: 1,
      action: 'scale-out',
      reason: ''
    }
    assert.equal(decide([obs(NOW, lags)], { current: 5, lastDecision: justScaled }).desired, 5)
    assert.equal(decide([obs(NOW, lags)], { current: 5, lastDecision: { ...justScaled, at: NOW - 15_000 } }).desired, 8)
  })
})

describe('keda: the partition cap', () => {
  test('default: at most one consumer per partition', () => {
    const d = decide([obs(NOW, [50])], { current: 1 })
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'hold')
    assert.deepEqual(d.cap, { uncapped: 5, usable: 1, recommendedPartitions: 5 })
    assert.ok(d.reason.includes('capped at 1'), d.reason)
    assert.ok(d.reason.includes('4 more consumers would idle'), d.reason)
  })

  test('in-partition parallelism does not change the cap (KEDA knows nothing about it): 1 partition, 8 at once, still 1', () => {
    const d = decide([obs(NOW, [50])], { current: 1 }, {}, { parallelismPerPartition: 8, concurrencyPerConsumer: 8 })
    assert.equal(d.desired, 1)
    assert.deepEqual(d.cap, { uncapped: 5, usable: 1, recommendedPartitions: 5 })
    assert.ok(d.reason.includes('ceil(50 / 10) = 5'), d.reason)
    assert.ok(d.reason.includes('capped at 1'), d.reason)
    assert.ok(d.reason.includes('4 more consumers would idle'), d.reason)
    assert.ok(d.reason.includes('the consumer works up to 8 records of its partition at once'), d.reason)
  })

  test('limitToPartitionsWithLag with parallelism: at most the partitions with lag, not x k', () => {
    const d = decide(
      [obs(NOW, [60, 40, 0, 0])],
      { current: 2 },
      { limitToPartitionsWithLag: true },
      { parallelismPerPartition: 4, concurrencyPerConsumer: 4 }
    )
    assert.equal(d.desired, 2)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 2, recommendedPartitions: 8 })
  })

  test('allowIdleConsumers: no cap', () => {
    const d = decide([obs(NOW, [50])], { current: 1 }, { allowIdleConsumers: true })
    assert.equal(d.desired, 5)
    assert.equal(d.cap, undefined)
  })

  test('limitToPartitionsWithLag: at most the partitions with lag', () => {
    const lags = [60, 40, 0, 0]
    assert.equal(decide([obs(NOW, lags)], { current: 2 }).desired, 4)
    const d = decide([obs(NOW, lags)], { current: 2 }, { limitToPartitionsWithLag: true })
    assert.equal(d.desired, 2)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 2, recommendedPartitions: 8 })
    assert.ok(d.reason.includes('2 partitions with lag'), d.reason)
  })

  test('ensureEvenDistributionOfPartitions rounds up to a factor of the partition count', () => {
    // ceil(35 / 10) = 4, not a factor of 6: 6
    const lags = [10, 10, 10, 5, 0, 0]
    assert.equal(decide([obs(NOW, lags)], { current: 4 }).desired, 4)
    const d = decide([obs(NOW, lags)], { current: 4 }, { ensureEvenDistributionOfPartitions: true })
    assert.equal(d.desired, 6)
    assert.ok(d.reason.includes('rounded up to 6, a factor of 6 partitions'), d.reason)
  })
})

describe('keda: activation and scale to zero (limits.min 0)', () => {
  const zero = { min: 0 }

  test('at 0, lag <= activationLagThreshold: stays at 0', () => {
    const d = decide([obs(NOW, [5, 0])], { current: 0 }, { activationLagThreshold: 10 }, zero)
    assert.equal(d.desired, 0)
    assert.equal(d.action, 'hold')
    assert.ok(d.reason.includes('inactive'), d.reason)
  })

  test('at 0, lag above the activation threshold: KEDA activates at 1', () => {
    const d = decide([obs(NOW, [15, 40])], { current: 0 }, { activationLagThreshold: 10 }, zero)
    assert.equal(d.desired, 1)
    assert.equal(d.action, 'scale-out')
    assert.ok(d.reason.includes('activates'), d.reason)
  })

  test('inactive for longer than cooldownPeriod: scale to zero', () => {
    const history = [obs(NOW - 400_000, [30, 0]), obs(NOW - 200_000, [0, 0]), obs(NOW, [0, 0])]
    const d = decide(history, { current: 3 }, {}, zero)
    assert.equal(d.desired, 0)
    assert.ok(d.reason.includes('scale to zero'), d.reason)
  })

  test('active within cooldownPeriod: no zero yet, the stabilization window holds the count', () => {
    const history = [obs(NOW - 100_000, [30, 0, 0, 0]), obs(NOW, [0, 0, 0, 0])]
    const d = decide(history, { current: 3 }, {}, zero)
    assert.equal(d.desired, 3)
    assert.ok(d.reason.includes('cooldownPeriod'), d.reason)
  })

  test('with limits.min >= 1 activation is ignored (as KEDA does): the HPA scales on the lag', () => {
    const d = decide([obs(NOW, [30, 20, 0, 0, 0, 0, 0, 0])], { current: 2 }, { activationLagThreshold: 100 })
    assert.equal(d.desired, 5)
    const low = decide([obs(NOW, [5, 0])], { current: 1 }, { activationLagThreshold: 10 })
    assert.equal(low.desired, 1)
  })

  test('no committed offset, reset latest: KEDA counts lag 1 per partition (activates)', () => {
    const uncommitted = (i: number) => part(i, 0, { committedOffset: undefined, lagFrom: 'latest' })
    const history = [obsOf(NOW, [uncommitted(0), uncommitted(1)])]
    assert.equal(decide(history, { current: 0 }, {}, zero).desired, 1)
    assert.equal(decide(history, { current: 0 }, { scaleToZeroOnInvalidOffset: true }, zero).desired, 0)
  })
})

describe('keda: stabilization window holds scale-down', () => {
  const history = [obs(NOW - 400_000, [40, 40]), obs(NOW - 200_000, [25, 25]), obs(NOW, [5, 5])]

  test('the highest recommendation within 300 s wins: 5, not 1 (and not 8 from 400 s ago)', () => {
    const d = decide(history, { current: 8 }, { allowIdleConsumers: true })
    assert.equal(d.desired, 5)
    assert.ok(d.reason.includes('stabilization'), d.reason)
    assert.ok(d.reason.includes('recommendation 5'), d.reason)
  })

  test('a 100 s window lets it go down to 1', () => {
    const d = decide(history, { current: 8 }, { allowIdleConsumers: true, stabilizationWindowMs: 100_000 })
    assert.equal(d.desired, 1)
  })

  test('scale-up is not stabilized', () => {
    const up = [obs(NOW - 60_000, [5, 5]), obs(NOW, [25, 25])]
    assert.equal(decide(up, { current: 2 }, { allowIdleConsumers: true }).desired, 5)
  })
})

describe('keda: lag per partition', () => {
  const opts = { excludePersistentLag: false, scaleToZeroOnInvalidOffset: false }

  test('committed lag counts as is; earliest with no commit counts the log-end offset', () => {
    assert.deepEqual(kedaPartitionLag(part(0, 42), undefined, opts), [42, 42])
    const earliest = part(0, 900, { committedOffset: undefined, lagFrom: 'earliest', logStartOffset: 100 })
    assert.deepEqual(kedaPartitionLag(earliest, undefined, opts), [1000 + 900, 1000 + 900])
  })

  test('excludePersistentLag: a partition whose commit did not move counts 0 (but stays active)', () => {
    const stuck = part(0, 100, { committedOffset: 500 })
    assert.deepEqual(kedaPartitionLag(stuck, stuck, { ...opts, excludePersistentLag: true }), [0, 100])
    const moved = part(0, 100, { committedOffset: 510 })
    assert.deepEqual(kedaPartitionLag(moved, stuck, { ...opts, excludePersistentLag: true }), [100, 100])
  })

  test('excludePersistentLag changes the count', () => {
    const before = obsOf(NOW - 30_000, [
      part(0, 100, { committedOffset: 500 }),
      part(1, 30, { committedOffset: 400 }),
      part(2, 0),
      part(3, 0)
    ])
    const now = obsOf(NOW, [
      part(0, 100, { committedOffset: 500 }),
      part(1, 20, { committedOffset: 410 }),
      part(2, 0),
      part(3, 0)
    ])
    assert.equal(decide([before, now], { current: 1 }).desired, 4)
    const d = decide([before, now], { current: 1 }, { excludePersistentLag: true })
    assert.equal(d.desired, 2)
    assert.ok(d.reason.includes('persistent'), d.reason)
  })
})
