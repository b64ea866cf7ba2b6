import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { finalize, freshObservation, usableConsumers, type Wish } from '../../src/autoscaler/policy/common.ts'
import { createPolicy, POLICY_NAMES } from '../../src/autoscaler/policy/index.ts'
import { policyInput as input, observation as obs, T0 } from '../support/observations.ts'

const wish = (desired: number, fields: Partial<Wish> = {}): Wish => ({
  desired,
  reason: 'policy says so',
  capBasis: 'partitions',
  ...fields
})

describe('never scale on stale data', () => {
  test('newest observation stale: every policy holds at current, saying since when', () => {
    const history = [
      obs(T0, [500]),
      obs(T0 + 15_000, [500], {}, { stale: true, error: 'broker unreachable' }),
      obs(T0 + 30_000, [500], {}, { stale: true, error: 'broker unreachable' })
    ]
    for (const name of POLICY_NAMES) {
      const d = createPolicy(
        name,
        name === 'seed' ? { ignorePartitionCap: true } : {}
      )(input(history, { current: 3 }, {}, T0 + 45_000))
      assert.equal(d.action, 'hold', name)
      assert.equal(d.desired, 3, name)
      assert.equal(d.from, 3, name)
      assert.equal(d.policy, name)
      assert.match(d.reason, /stale/, name)
      assert.ok(d.reason.includes(new Date(T0 + 15_000).toISOString()), `${name}: ${d.reason}`)
      assert.ok(d.reason.includes('30 s ago'), `${name}: ${d.reason}`)
      assert.ok(d.reason.includes('broker unreachable'), `${name}: ${d.reason}`)
      assert.equal(d.cap, undefined)
    }
  })

  test('no observation at all: hold, saying the data is missing', () => {
    for (const name of POLICY_NAMES) {
      const d = createPolicy(name)(input([], { current: 2 }, {}, T0))
      assert.equal(d.action, 'hold')
      assert.equal(d.desired, 2)
      assert.match(d.reason, /no lag data/)
    }
  })

  test('an observation older than maxDataAgeMs counts as stale', () => {
    const history = [obs(T0, [500])]
    const old = freshObservation(input(history, { current: 1 }, {}, T0 + 121_000), 'drain', 120_000)
    assert.equal(old.ok, false)
    if (!old.ok) {
      assert.match(old.decision.reason, /stale/)
      assert.ok(old.decision.reason.includes('121 s old'), old.decision.reason)
    }
    assert.equal(freshObservation(input(history, { current: 1 }, {}, T0 + 120_000), 'drain', 120_000).ok, true)
  })

  test('an old stale observation before a good one does not matter', () => {
    const history = [obs(T0, [5], {}, { stale: true }), obs(T0 + 15_000, [5])]
    const fresh = freshObservation(input(history, { current: 1 }), 'keda', 60_000)
    assert.equal(fresh.ok, true)
  })
})

describe('finalize: bounds', () => {
  const o = obs(T0, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10])

  test('above max: max, bound max, the wish in the reason', () => {
    const d = finalize(input([o], { current: 2 }), 'p', o, wish(12))
    assert.equal(d.desired, 8)
    assert.equal(d.bound, 'max')
    assert.equal(d.action, 'scale-out')
    assert.ok(d.reason.includes('max 8'))
    assert.ok(d.reason.includes('12'))
  })

  test('below min: min, bound min', () => {
    const d = finalize(input([o], { current: 3 }, { min: 2 }), 'p', o, wish(0))
    assert.equal(d.desired, 2)
    assert.equal(d.bound, 'min')
    assert.equal(d.action, 'scale-in')
    assert.ok(d.reason.includes('min 2'))
  })

  test('within bounds: no bound, the action follows from current', () => {
    const out = finalize(input([o], { current: 3 }), 'p', o, wish(5))
    assert.equal(out.bound, undefined)
    assert.equal(out.action, 'scale-out')
    assert.equal(out.from, 3)
    assert.equal(finalize(input([o], { current: 5 }), 'p', o, wish(5)).action, 'hold')
    assert.equal(finalize(input([o], { current: 6 }), 'p', o, wish(5)).action, 'scale-in')
  })
})

describe('finalize: the partition cap', () => {
  test('never more consumers than partitions: cap with uncapped, usable and recommended partitions', () => {
    const o = obs(T0, [100, 0, 0])
    const d = finalize(input([o], { current: 1 }), 'p', o, wish(8))
    assert.equal(d.desired, 3)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 3, recommendedPartitions: 8 })
    assert.ok(d.reason.includes('capped at 3'), d.reason)
    assert.ok(d.reason.includes('3 partitions'), d.reason)
    assert.ok(d.reason.includes('5 more consumers would idle'), d.reason)
    assert.equal(d.bound, undefined)
  })

  test('the cap applies after max: uncapped is at most max', () => {
    const o = obs(T0, [100])
    const d = finalize(input([o], { current: 1 }), 'p', o, wish(40))
    assert.equal(d.desired, 1)
    assert.equal(d.cap?.uncapped, 8)
    assert.equal(d.bound, undefined)
  })

  test('partitions with lag only, when the policy counts those', () => {
    const o = obs(T0, [100, 0, 50, 0])
    const d = finalize(input([o], { current: 1 }), 'p', o, wish(8, { capBasis: 'partitions-with-lag' }))
    assert.equal(d.desired, 2)
    assert.equal(d.cap?.usable, 2)
    assert.ok(d.reason.includes('2 partitions with lag'), d.reason)
  })

  test('in-partition parallelism never raises the cap: a partition still goes to one consumer', () => {
    // 3 records of a partition at once (C = k = 3) make each consumer faster; they do not let 3 consumers share it.
    const o = obs(T0, [100, 100])
    const d = finalize(
      input([o], { current: 1 }, { parallelismPerPartition: 3, concurrencyPerConsumer: 3 }),
      'p',
      o,
      wish(8)
    )
    assert.equal(d.desired, 2)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 2, recommendedPartitions: 8 })
    assert.equal(usableConsumers(o, 'partitions'), 2)
    assert.ok(d.reason.includes('capped at 2: Topic_from_java has 2 partitions, 6 more consumers would idle'), d.reason)
    assert.ok(d.reason.includes('each of the 2 consumers works up to 3 records of its partition at once'), d.reason)
    assert.ok(d.reason.includes('8 partitions would give all 8 consumers work'), d.reason)
    assert.ok(!d.reason.includes('per partition'), d.reason)
  })

  test('1 partition, 8 records at once (unordered): capped at 1, 7 idle, the one consumer works 8 at once', () => {
    const o = obs(T0, [80])
    const d = finalize(
      input([o], { current: 1 }, { parallelismPerPartition: 8, concurrencyPerConsumer: 8 }),
      'p',
      o,
      wish(8, { capBasis: 'partitions-with-lag' })
    )
    assert.equal(d.desired, 1)
    assert.deepEqual(d.cap, { uncapped: 8, usable: 1, recommendedPartitions: 8 })
    assert.ok(
      d.reason.includes(
        'capped at 1: Topic_from_java has 1 partition with lag, 7 more consumers would idle; the consumer works up to 8 records of its partition at once'
      ),
      d.reason
    )
  })

  test('concurrency with partition ordering (C = 8, k = 1) works one record of a partition at once: nothing to add', () => {
    const o = obs(T0, [80])
    const d = finalize(
      input([o], { current: 1 }, { parallelismPerPartition: 1, concurrencyPerConsumer: 8 }),
      'p',
      o,
      wish(8)
    )
    assert.equal(d.desired, 1)
    assert.ok(!d.reason.includes('at once'), d.reason)
  })

  test("capBasis 'none' turns the cap off", () => {
    const o = obs(T0, [100])
    const d = finalize(input([o], { current: 1 }), 'p', o, wish(8, { capBasis: 'none' }))
    assert.equal(d.desired, 8)
    assert.equal(d.cap, undefined)
  })

  test('min wins over the cap, and both are reported', () => {
    const o = obs(T0, [100])
    const d = finalize(input([o], { current: 1 }, { min: 2 }), 'p', o, wish(8))
    assert.equal(d.desired, 2)
    assert.equal(d.bound, 'min')
    assert.equal(d.cap?.usable, 1)
  })

  test('a cap the policy applied itself is only reported, not applied again', () => {
    const o = obs(T0, [100, 100, 100])
    const d = finalize(
      input([o], { current: 1 }),
      'p',
      o,
      wish(2, { capByPolicy: true, cap: { uncapped: 6, usable: 2 }, capBasis: 'partitions-with-lag' })
    )
    assert.equal(d.desired, 2)
    assert.deepEqual(d.cap, { uncapped: 6, usable: 2, recommendedPartitions: 6 })
  })

  test('a policy recommendation replaces the default one', () => {
    const o = obs(T0, [100])
    const d = finalize(
      input([o], { current: 1 }),
      'p',
      o,
      wish(8, { recommend: () => ({ partitions: 5, text: '5 partitions would do' }) })
    )
    assert.equal(d.cap?.recommendedPartitions, 5)
    assert.ok(d.reason.includes('5 partitions would do'))
  })
})

describe('finalize: cooldowns', () => {
  const o = obs(T0, [10, 10, 10, 10, 10, 10, 10, 10])

  test('scale-out within the scale-out cooldown holds, saying how long is left', () => {
    const d = finalize(
      input([o], { current: 2, lastScaleOutAt: T0 - 20_000 }, { scaleOutCooldownMs: 60_000 }),
      'p',
      o,
      wish(5)
    )
    assert.equal(d.action, 'hold')
    assert.equal(d.desired, 2)
    assert.match(d.reason, /^hold: cooldown, 40 s left/)
    assert.ok(d.reason.includes('to 5'))
  })

  test('scale-out after the cooldown goes ahead', () => {
    const d = finalize(
      input([o], { current: 2, lastScaleOutAt: T0 - 60_000 }, { scaleOutCooldownMs: 60_000 }),
      'p',
      o,
      wish(5)
    )
    assert.equal(d.desired, 5)
  })

  test('the scale-out cooldown does not hold a scale-in; the scale-in cooldown does not hold a scale-out', () => {
    const state = { current: 4, lastScaleOutAt: T0 - 1000, lastScaleInAt: T0 - 1000 }
    assert.equal(
      finalize(input([o], state, { scaleOutCooldownMs: 60_000, scaleInCooldownMs: 0 }), 'p', o, wish(2)).desired,
      2
    )
    assert.equal(
      finalize(input([o], { current: 4, lastScaleInAt: T0 - 1000 }, { scaleInCooldownMs: 60_000 }), 'p', o, wish(6))
        .desired,
      6
    )
  })

  test('scale-in waits scaleInCooldownMs after the last scale of either kind', () => {
    const limits = { scaleInCooldownMs: 300_000 }
    const state = { current: 6, lastScaleInAt: T0 - 250_000, lastScaleOutAt: T0 - 100_000 }
    const d = finalize(input([o], state, limits), 'p', o, wish(2))
    assert.equal(d.action, 'hold')
    assert.equal(d.desired, 6)
    assert.ok(d.reason.includes('200 s left'), d.reason)
    const later = finalize(input([o], state, limits, T0 + 200_000), 'p', o, wish(2))
    assert.equal(later.desired, 2)
  })

  test('a held change drops the cap: the decision stays consistent with desired', () => {
    const one = obs(T0, [100])
    const d = finalize(
      input([one], { current: 8, lastScaleInAt: T0 - 1000 }, { scaleInCooldownMs: 60_000 }),
      'p',
      one,
      wish(8)
    )
    assert.equal(d.desired, 8)
    assert.equal(d.cap, undefined)
    assert.match(d.reason, /hold: cooldown, 59 s left/)
    assert.ok(d.reason.includes('capped at 1'))
  })
})
