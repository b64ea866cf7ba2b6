import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  createPolicy,
  DRAIN_DEFAULTS,
  drainOptionsSchema,
  KEDA_DEFAULTS,
  kedaOptionsSchema,
  parsePolicyOptions,
  SEED_DEFAULTS
} from '../../src/autoscaler/policy/index.ts'
import { UserError } from '../../src/errors.ts'

describe('policy options', () => {
  test('defaults', () => {
    assert.deepEqual(SEED_DEFAULTS, {
      maxDataAgeMs: 120_000,
      datapointMs: 60_000,
      scaleOutThreshold: 0,
      scaleOutDatapoints: 1,
      scaleOutTo: 8,
      scaleInThreshold: 0,
      scaleInDatapoints: 5,
      scaleInTo: 1,
      ignorePartitionCap: false
    })
    assert.deepEqual(KEDA_DEFAULTS, {
      maxDataAgeMs: 120_000,
      lagThreshold: 10,
      activationLagThreshold: 0,
      allowIdleConsumers: false,
      limitToPartitionsWithLag: false,
      ensureEvenDistributionOfPartitions: false,
      excludePersistentLag: false,
      scaleToZeroOnInvalidOffset: false,
      stabilizationWindowMs: 300_000,
      cooldownPeriodMs: 300_000,
      tolerance: 0.1,
      scaleUpPercent: 100,
      scaleUpPods: 4,
      scaleUpPeriodMs: 15_000
    })
    assert.deepEqual(DRAIN_DEFAULTS, {
      maxDataAgeMs: 120_000,
      drainTargetMs: 60_000,
      recordTimeMs: 1000,
      measureWindowMs: 300_000,
      assignor: 'roundrobin',
      rebalancePauseMs: 3000,
      scaleInMargin: 0.8
    })
  })

  test('strings from flags and env variables are coerced', () => {
    const keda = parsePolicyOptions('keda', { lagThreshold: '25', allowIdleConsumers: 'true' })
    assert.equal(keda.lagThreshold, 25)
    assert.equal(keda.allowIdleConsumers, true)
    assert.equal(parsePolicyOptions('seed', { ignorePartitionCap: 'false' }).ignorePartitionCap, false)
    assert.equal(parsePolicyOptions('drain', { scaleInMargin: '0.5' }).scaleInMargin, 0.5)
  })

  test('a bad value is a usage error naming the policy, the option and the value', () => {
    assert.throws(
      () => parsePolicyOptions('keda', { lagThreshold: 0 }),
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === 2 &&
        e.message.startsWith('keda policy: lagThreshold: must be at least 1') &&
        e.message.includes('got 0')
    )
    assert.throws(() => parsePolicyOptions('drain', { assignor: 'sticky' }), /assignor: must be one of roundrobin/)
    assert.throws(() => parsePolicyOptions('drain', { scaleInMargin: 1.5 }), /scaleInMargin/)
    assert.throws(() => parsePolicyOptions('seed', { ignorePartitionCap: 'maybe' }), /ignorePartitionCap/)
  })

  test('unknown options are rejected (a typo must not silently fall back to a default)', () => {
    assert.throws(() => parsePolicyOptions('drain', { drainTarget: 1000 }), /drainTarget/)
  })

  test("KEDA's own incompatible settings are rejected", () => {
    assert.equal(
      kedaOptionsSchema.safeParse({ allowIdleConsumers: true, limitToPartitionsWithLag: true }).success,
      false
    )
    assert.equal(
      kedaOptionsSchema.safeParse({ limitToPartitionsWithLag: true, ensureEvenDistributionOfPartitions: true }).success,
      false
    )
    assert.equal(kedaOptionsSchema.safeParse({ allowIdleConsumers: true }).success, true)
  })

  test('createPolicy validates, and rejects an unknown policy', () => {
    assert.throws(() => createPolicy('drain', { drainTargetMs: 10 }), /drainTargetMs: must be at least 1000/)
    assert.throws(() => createPolicy('fastest' as 'drain'), /unknown policy "fastest"/)
    assert.equal(typeof createPolicy('drain'), 'function')
    assert.equal(drainOptionsSchema.parse({ assignor: 'range' }).assignor, 'range')
  })
})
