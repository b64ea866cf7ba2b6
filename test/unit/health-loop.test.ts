/**
 * The autoscaler loop with the health check: the problem goes into the decision's reason, the
 * metrics and the snapshot; a backend that can replace is asked once, and the clocks restart.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Autoscaler } from '../../src/autoscaler/autoscaler.ts'
import { createPolicy } from '../../src/autoscaler/policy/index.ts'
import type {
  BackendStatus,
  ConsumerHealth,
  ExpectedMember,
  Observation,
  ReplacementReport,
  ScalingBackend
} from '../../src/autoscaler/types.ts'
import { resolveAutoscalerConfig } from '../../src/cli/commands/autoscale.ts'
import { createLogger } from '../../src/log.ts'
import { limits, observation, ScriptedSource, T0 } from '../support/observations.ts'

const quiet = createLogger({ name: 'test', level: 'silent' })

/** Two consumers, worker-1 and worker-2; replacing one gives it a new client id, as the local pool does. */
class TwoWorkers implements ScalingBackend {
  readonly name = 'two-workers'
  readonly asked: ConsumerHealth[] = []
  members: ExpectedMember[] = [
    { clientId: 'lagscale-worker-1', since: T0 - 60_000 },
    { clientId: 'lagscale-worker-2', since: T0 - 60_000 }
  ]
  async status(): Promise<BackendStatus> {
    return { desired: 2, running: 2, expectedMembers: this.members }
  }
  async scaleTo(): Promise<void> {
    throw new Error('not expected to scale')
  }
  async close(): Promise<void> {}
}

class ReplacingWorkers extends TwoWorkers {
  #next = 3
  async replaceUnhealthy(health: ConsumerHealth): Promise<ReplacementReport> {
    this.asked.push(health)
    const gone = new Set(health.missing?.clientIds ?? [])
    this.members = this.members.map((m) =>
      gone.has(m.clientId) ? { clientId: `lagscale-worker-${this.#next++}`, since: health.at } : m
    )
    return { replaced: [...gone], note: `replacing ${[...gone].join(', ')}` }
  }
}

/** Every 5 s from T0: lag 3 on two partitions (committed offsets move), worker-1 alone in the group. */
const aloneInGroup = (count: number): Observation[] =>
  Array.from({ length: count }, (_, i) =>
    observation(
      T0 + i * 5000,
      [3, 3],
      { committedOffset: 1000 + i, logEndOffset: 1003 + i },
      {
        members: [
          {
            memberId: 'm-1',
            clientId: 'lagscale-worker-1',
            host: '/127.0.0.1',
            partitions: [
              { topic: 'Topic_from_java', partition: 0 },
              { topic: 'Topic_from_java', partition: 1 }
            ]
          }
        ]
      }
    )
  )

function loop(observations: Observation[], backend: ScalingBackend) {
  return new Autoscaler({
    monitor: new ScriptedSource(observations),
    policy: createPolicy('keda', { lagThreshold: 10, tolerance: 0, scaleUpPods: 100, stabilizationWindowMs: 0 }),
    policyName: 'keda',
    backend,
    limits: limits({ min: 2, max: 2 }),
    intervalMs: 5000,
    logger: quiet,
    health: { memberGraceMs: 45_000, stallWindowMs: 60_000 }
  })
}

const metric = async (a: Autoscaler, name: string): Promise<number> => {
  const text = await a.metrics.registry.getSingleMetricAsString(name)
  return Number(/ (\d+)$/m.exec(text)?.[1])
}

test('a consumer out of the group past the grace: in the reason, the metrics, the snapshot; replaced once', async () => {
  const backend = new ReplacingWorkers()
  const a = loop(aloneInGroup(12), backend)
  for (let i = 0; i < 9; i++) await a.tick()
  assert.equal(backend.asked.length, 0, '40 s out: within the grace')
  assert.deepEqual(a.snapshot()?.health?.problems, [])
  await a.tick()
  assert.equal(backend.asked.length, 1)
  const last = a.decisions.at(-1)!
  assert.equal(last.action, 'hold')
  assert.match(
    last.reason,
    /; but 1 of 2 consumers is not in the group for 45 s \(lagscale-worker-2\); replacing lagscale-worker-2$/
  )
  assert.deepEqual(last.health, {
    problems: ['1 of 2 consumers is not in the group for 45 s (lagscale-worker-2)'],
    missing: 1,
    replaced: ['lagscale-worker-2']
  })
  assert.deepEqual(a.snapshot()?.health?.missing?.clientIds, ['lagscale-worker-2'])
  assert.equal(await metric(a, 'lagscale_consumers_missing'), 1)
  assert.equal(await metric(a, 'lagscale_consumer_replacements_total'), 1)
  // The replacement restarts the clock: its successor (worker-3) gets a grace of its own.
  await a.tick()
  await a.tick()
  assert.equal(backend.asked.length, 1, 'not asked again right after')
  assert.deepEqual(a.snapshot()?.health?.problems, [])
  assert.equal(await metric(a, 'lagscale_consumers_missing'), 0)
  assert.equal(await metric(a, 'lagscale_stalled_partitions'), 0)
})

test('a backend that cannot replace: the loop only reports, one log line while the same consumer is missing', async () => {
  const backend = new TwoWorkers()
  const a = loop(aloneInGroup(14), backend)
  for (let i = 0; i < 14; i++) await a.tick()
  const flagged = a.decisions.filter((d) => d.health !== undefined)
  assert.equal(
    flagged.length,
    1,
    `45 s, 50 s, ... 65 s out: one line, not five: ${flagged.map((d) => d.reason).join(' | ')}`
  )
  assert.match(flagged[0]!.reason, /1 of 2 consumers is not in the group for 45 s \(lagscale-worker-2\)$/)
  assert.equal(a.snapshot()?.health?.missing?.forMs, 65_000, 'the snapshot has the current duration')
  assert.equal(await metric(a, 'lagscale_consumers_missing'), 1)
  assert.equal(await metric(a, 'lagscale_consumer_replacements_total'), 0)
})

test('replacing can be turned off: the backend is not asked', async () => {
  const backend = new ReplacingWorkers()
  const a = new Autoscaler({
    monitor: new ScriptedSource(aloneInGroup(11)),
    policy: createPolicy('keda', { lagThreshold: 10 }),
    policyName: 'keda',
    backend,
    limits: limits({ min: 2, max: 2 }),
    intervalMs: 5000,
    logger: quiet,
    health: { memberGraceMs: 45_000, stallWindowMs: 60_000 },
    replaceUnhealthy: false
  })
  for (let i = 0; i < 11; i++) await a.tick()
  assert.equal(backend.asked.length, 0)
  assert.equal(a.snapshot()?.health?.missing?.count, 1, 'still reported')
})

test('config: health defaults, flags and their errors', () => {
  const defaults = resolveAutoscalerConfig({}, {})
  assert.deepEqual(defaults.health, { memberGrace: 45_000, stallWindow: 60_000, replace: true })
  const set = resolveAutoscalerConfig({ memberGrace: '20s', stallWindow: '2m', replace: false }, {})
  assert.deepEqual(set.health, { memberGrace: 20_000, stallWindow: 120_000, replace: false })
  assert.throws(() => resolveAutoscalerConfig({ stallWindow: '10ms' }, {}), {
    message: '--stall-window: must be at least 1000 ms; got "10ms"'
  })
})
