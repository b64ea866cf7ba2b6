import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Autoscaler } from '../../src/autoscaler/autoscaler.ts'
import { parseAutoscalerConfig } from '../../src/autoscaler/config.ts'
import { createPolicy } from '../../src/autoscaler/policy/index.ts'
import type { BackendStatus, Decision, Observation, ScalingBackend } from '../../src/autoscaler/types.ts'
import { resolveAutoscalerConfig } from '../../src/cli/commands/autoscale.ts'
import { createLogger } from '../../src/log.ts'
import { limits, observationOf, partitionObservation, ScriptedSource } from '../support/observations.ts'

const quiet = createLogger({ name: 'test', level: 'silent' })

/** Group g on topic t, nothing committed: the lag counts from the earliest offset, 0. */
const observation = (at: number, lags: number[], stale = false): Observation =>
  observationOf(
    at,
    lags.map((lag, i) =>
      partitionObservation(i, lag, { topic: 't', logEndOffset: lag, committedOffset: undefined, lagFrom: 'earliest' })
    ),
    { group: 'g', stale, ...(stale ? { error: 'no answer from Kafka within 3000 ms' } : {}) }
  )

class RecordingBackend implements ScalingBackend {
  readonly name = 'recording'
  readonly calls: { desired: number; decision: Decision }[] = []
  desired = 0
  fail = false
  async status(): Promise<BackendStatus> {
    return { desired: this.desired, running: this.desired }
  }
  async scaleTo(desired: number, decision: Decision): Promise<void> {
    if (this.fail) throw new Error('UpdateService denied')
    this.calls.push({ desired, decision })
    this.desired = desired
  }
  async close(): Promise<void> {}
}

function loop(observations: Observation[], backend: ScalingBackend) {
  return new Autoscaler({
    monitor: new ScriptedSource(observations, 'g'),
    policy: createPolicy('keda', { lagThreshold: 10, tolerance: 0, scaleUpPods: 100, stabilizationWindowMs: 0 }),
    policyName: 'keda',
    backend,
    limits: limits({ scaleOutCooldownMs: 10_000, scaleInCooldownMs: 10_000 }),
    intervalMs: 1000,
    logger: quiet
  })
}

test('the loop asks the backend only for changes, and stale data changes nothing', async () => {
  const backend = new RecordingBackend()
  const a = loop(
    [
      observation(0, [0, 0]),
      observation(1000, [30, 10]),
      observation(2000, [30, 10], true),
      observation(3000, [30, 10])
    ],
    backend
  )
  await a.tick()
  assert.deepEqual(
    backend.calls.map((c) => c.desired),
    [1],
    'first tick: up to min'
  )
  await a.tick()
  // 40 lag / threshold 10 = 4, capped at the 2 partitions; no cooldown after the start-up scale.
  assert.deepEqual(
    backend.calls.map((c) => c.desired),
    [1, 2]
  )
  assert.match(backend.calls[1]!.decision.reason, /capped at 2/)
  await a.tick()
  assert.equal(backend.calls.length, 2, 'a stale observation never scales')
  const staleHold = a.decisions.at(-1)!
  assert.equal(staleHold.action, 'hold')
  assert.match(staleHold.reason, /stale|no answer/)
  await a.tick()
  assert.equal(backend.calls.length, 2, 'same data again: no change, no call')
  const snap = a.snapshot()!
  assert.equal(snap.status.desired, 2)
  assert.equal(snap.policy, 'keda')
  assert.equal(snap.observation?.sumOffsetLag, 40)
})

test('holds with the same reason are logged once; the snapshot is published to subscribers', async () => {
  const backend = new RecordingBackend()
  backend.desired = 1
  const a = loop([observation(0, [0]), observation(1000, [0]), observation(2000, [0])], backend)
  const seen: number[] = []
  const unsubscribe = a.subscribe((s) => seen.push(s.at))
  await a.tick()
  await a.tick()
  unsubscribe()
  await a.tick()
  assert.deepEqual(seen, [0, 1000], 'two snapshots while subscribed')
  assert.equal(a.decisions.length, 1, 'three identical holds, one log line')
  assert.equal(a.history.length, 3)
})

test('a backend that refuses is logged and retried next tick, not fatal', async () => {
  const backend = new RecordingBackend()
  backend.fail = true
  const a = loop([observation(0, [50]), observation(1000, [50])], backend)
  await a.tick()
  assert.equal(a.decisions.at(-1)!.applied, false)
  backend.fail = false
  await a.tick()
  assert.equal(a.decisions.at(-1)!.applied, true)
  assert.equal(backend.desired, 1)
})

test('config: defaults, durations, and clear errors naming the key', () => {
  const c = parseAutoscalerConfig({ topics: ['Topic_from_java'] })
  assert.equal(c.group, 'group_id')
  assert.equal(c.policy, 'drain')
  assert.equal(c.backend, 'dry-run')
  assert.equal(c.interval, 5000)
  assert.equal(c.drain.drainTargetMs, 60_000)
  assert.equal(c.dashboard.port, 8090)
  const d = parseAutoscalerConfig({ topics: 'a,b', interval: '1.5s', drain: { drainTargetMs: '2m' } })
  assert.deepEqual(d.topics, ['a', 'b'])
  assert.equal(d.interval, 1500)
  assert.equal(d.drain.drainTargetMs, 120_000)
  assert.throws(() => parseAutoscalerConfig({ topics: ['t'], drian: {} }), /unknown key drian/)
  assert.throws(() => parseAutoscalerConfig({ topics: ['t'], drain: { target: 1 } }), /unknown key drain\.target/)
  assert.throws(() => parseAutoscalerConfig({ topics: ['t'], min: 5, max: 2 }), /min: must not be more than max/)
  assert.throws(() => parseAutoscalerConfig({ topics: ['t'], interval: 'soon' }), /interval: must be a duration/)
  assert.throws(() => parseAutoscalerConfig({ topics: ['t'], backend: 'ecs' }), /ecs.cluster and ecs.service/)
  assert.throws(() => parseAutoscalerConfig({ topics: ['bad topic'] }), /topics\.0: .*; got "bad topic"$/)
  // What was given is repeated (flags arrive as strings), nested keys too; a missing key says nothing more.
  assert.throws(() => parseAutoscalerConfig({ topics: ['t'], local: { standby: 'abc' } }), {
    message: 'config: local.standby: must be a number; got "abc"'
  })
  assert.throws(() => parseAutoscalerConfig({ topics: ['t'], max: 0 }), {
    message: 'config: max: must be at least 1; got 0'
  })
  assert.throws(
    () => parseAutoscalerConfig({ topics: ['t'], min: 5, max: 2 }),
    /min: must not be more than max; got 5$/
  )
})

test('a bad flag is named as the flag, with what was given', () => {
  assert.throws(() => resolveAutoscalerConfig({ standby: 'abc' }, {}), {
    message: '--standby: must be a number; got "abc"'
  })
  assert.throws(() => resolveAutoscalerConfig({ max: '0' }, {}), { message: '--max: must be at least 1; got "0"' })
  assert.throws(() => resolveAutoscalerConfig({ interval: 'soon' }, {}), { message: /^--interval: must be a duration/ })
})

test('flags win over the environment, which wins over the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoscale-config-'))
  const file = join(dir, 'lagscale.yaml')
  writeFileSync(file, 'group: from-file\ntopics: [file-topic]\nmax: 4\ndrain:\n  drainTargetMs: 30s\n')
  const fromFile = resolveAutoscalerConfig({ config: file }, {})
  assert.equal(fromFile.group, 'from-file')
  assert.deepEqual(fromFile.topics, ['file-topic'])
  assert.equal(fromFile.max, 4)
  assert.equal(fromFile.drain.drainTargetMs, 30_000)
  const withEnv = resolveAutoscalerConfig({ config: file }, { GROUP_ID: 'from-env' })
  assert.equal(withEnv.group, 'from-env')
  const withFlags = resolveAutoscalerConfig(
    { config: file, group: 'from-flag', max: '6', drainTarget: '10s', workUnitMs: '50' },
    { GROUP_ID: 'from-env' }
  )
  assert.equal(withFlags.group, 'from-flag')
  assert.equal(withFlags.max, 6)
  assert.equal(withFlags.drain.drainTargetMs, 10_000)
  assert.deepEqual(withFlags.local.consumerArgs, ['--work-unit-ms', '50'])
  writeFileSync(file, 'max: [oops\n')
  assert.throws(() => resolveAutoscalerConfig({ config: file }, {}), /is not valid YAML/)
  assert.throws(() => resolveAutoscalerConfig({ config: join(dir, 'missing.yaml') }, {}), /cannot read config file/)
})
