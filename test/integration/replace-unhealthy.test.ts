/**
 * The health check on the real broker: a pool worker that is alive but out of the group (frozen
 * with SIGSTOP: the group drops it after its session timeout) is noticed after the grace, said
 * so in the decision, and replaced by the local pool; no record is lost.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import type { PoolWorkerInfo } from '../../src/autoscaler/backends/local.ts'
import { createAutoscaler, type RunningAutoscaler } from '../../src/autoscaler/index.ts'
import { createProducer } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { createLogger } from '../../src/log.ts'
import { uniqueName } from '../support/cli.ts'
import { endOffsets, freshTopic } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'

const connection = () => resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
const scalers: RunningAutoscaler[] = []
after(async () => {
  await Promise.allSettled(scalers.map((s) => s.close()))
})

test('a worker out of the group (SIGSTOP) is named after the grace and replaced; every record done', async (t) => {
  const topic = await freshTopic('replace', 4)
  const group = uniqueName('replace')
  const ended = new Set<string>()
  const errors: string[] = []
  const pids = new Map<string, number>()
  const scaler = await createAutoscaler({
    connection: connection(),
    logger: createLogger({ name: 'test-autoscaler', level: 'warn' }),
    onWorkerOutput: (worker: PoolWorkerInfo, line: string) => {
      if (worker.pid !== undefined) pids.set(worker.id, worker.pid)
      if (line.includes('"level":50') || !line.startsWith('{')) errors.push(`${worker.id}: ${line}`)
      if (!line.includes('"event":"END"')) return
      const l = JSON.parse(line) as { partition: number; offset: string }
      ended.add(`${l.partition}:${l.offset}`)
    },
    config: {
      group,
      topics: [topic],
      backend: 'local',
      min: 2,
      max: 2,
      interval: 1000,
      dashboard: { enabled: false },
      // Longer than three workers starting at once on a loaded machine take to join.
      health: { memberGrace: 15_000 },
      local: {
        consumerArgs: ['--work-unit-ms', '20', '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '500'],
        // A frozen process never acts on SIGTERM: it is killed this long after.
        killAfter: 3000,
        standby: 1
      }
    }
  })
  scalers.push(scaler)
  const members = () => new Set(scaler.loop.history.at(-1)?.members.map((m) => m.clientId))
  await waitFor(
    'lagscale-worker-1 and -2 in the group, as the pool names them',
    () => members().has('lagscale-worker-1-consumer') && members().has('lagscale-worker-2-consumer'),
    60_000,
    { detail: () => `${[...members()].join(', ')}; ${errors.slice(-5).join(' | ')}` }
  )

  const producer = createProducer(connection())
  try {
    await producer.send({
      messages: Array.from({ length: 120 }, (_, i) => ({ topic, value: Buffer.from(String(i % 4)) }))
    })
  } finally {
    await producer.close()
  }
  // Its log lines may trail the group's member list on a loaded machine.
  const frozen = await waitFor('a log line of worker-2 (its pid)', () => pids.get('worker-2'), 20_000)
  process.kill(frozen, 'SIGSTOP')
  const stoppedAt = Date.now()

  const flagged = await waitFor(
    'a decision naming worker-2 as out of the group',
    () => scaler.loop.decisions.find((d) => d.health?.missing !== undefined),
    60_000,
    { detail: () => scaler.loop.decisions.at(-1)?.reason ?? '' }
  )
  assert.match(
    flagged.reason,
    /; but 1 of 2 consumers is not in the group for \d+(\.\d)? s \(lagscale-worker-2-consumer\); replacing lagscale-worker-2-consumer: stopped, new workers started$/
  )
  assert.deepEqual(flagged.health?.replaced, ['lagscale-worker-2-consumer'])
  // Session timeout (6 s, the broker's minimum) + grace (15 s): never sooner.
  assert.ok(flagged.at - stoppedAt >= 20_000, `flagged ${flagged.at - stoppedAt} ms after the freeze`)
  await waitFor('the frozen worker killed', () => {
    try {
      process.kill(frozen, 0)
      return false
    } catch {
      return true
    }
  })
  await waitFor(
    'a new worker in the group beside worker-1',
    () =>
      members().size === 2 &&
      members().has('lagscale-worker-1-consumer') &&
      !members().has('lagscale-worker-2-consumer'),
    60_000,
    { detail: () => [...members()].join(', ') }
  )
  const expected = (await endOffsets(topic)).flatMap((end, p) =>
    Array.from({ length: Number(end) }, (_, o) => `${p}:${o}`)
  )
  await waitFor('every record done', () => expected.every((k) => ended.has(k)), 90_000, {
    detail: () => `${ended.size}/${expected.length}`
  })
  const metrics = await scaler.loop.metrics.registry.metrics()
  assert.match(metrics, /lagscale_consumer_replacements_total\{[^}]*\} 1$/m)
  assert.match(metrics, /lagscale_consumers_missing\{[^}]*\} 0$/m, 'none missing once replaced')
  t.diagnostic(`flagged ${flagged.at - stoppedAt} ms after SIGSTOP: ${flagged.reason}`)
})
