import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { createLocalPool, type LocalPoolBackend, type PoolWorkerInfo } from '../../src/autoscaler/backends/local.ts'
import type { AutoscalerConfigInput } from '../../src/autoscaler/config.ts'
import { createAutoscaler, type RunningAutoscaler } from '../../src/autoscaler/index.ts'
import { createProducer } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { createLogger } from '../../src/log.ts'
import { uniqueName } from '../support/cli.ts'
import { endOffsets, freshTopic } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'

const WORK_UNIT_MS = 20
/**
 * The scale-out test's work unit: 100 records of 0-10 units are ~30 s of work for one
 * worker, long enough that new workers (Node start-up + group join, slower on a loaded
 * CI machine) still find a backlog.
 */
const SCALE_WORK_UNIT_MS = 60
const connection = () => resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
const quiet = createLogger({ name: 'test-autoscaler', level: 'warn' })

/** What every pool worker logged, parsed; records keyed `partition:offset`. */
class WorkerLogs {
  readonly lines: (Record<string, unknown> & { worker: string })[] = []
  readonly onOutput = (worker: PoolWorkerInfo, line: string): void => {
    if (!line.startsWith('{')) return
    try {
      this.lines.push({ ...(JSON.parse(line) as Record<string, unknown>), worker: worker.id })
    } catch {
      // not a log line
    }
  }
  events(event: string, worker?: string) {
    return this.lines.filter((l) => l['event'] === event && (worker === undefined || l.worker === worker))
  }
  /** `partition:offset` -> how many times it ENDed. */
  endCounts(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const l of this.events('END')) {
      const key = `${l['partition']}:${l['offset']}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return counts
  }
  workersThatWorked(): Set<string> {
    return new Set(this.events('START').map((l) => l.worker))
  }
}

/** `count` keyless records with values 0..10 (seeded), spread round robin over the partitions. */
async function sendWork(topic: string, count: number, seed = 7): Promise<number> {
  let x = seed
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648
    return x % 11
  }
  const producer = createProducer(connection())
  let total = 0
  try {
    const messages = Array.from({ length: count }, () => {
      const v = next()
      total += v
      return { topic, value: Buffer.from(String(v)) }
    })
    await producer.send({ messages })
  } finally {
    await producer.close()
  }
  return total
}

/** Every record of the topic (by log-end offsets) as `partition:offset` keys. */
async function allRecordKeys(topic: string): Promise<string[]> {
  const ends = await endOffsets(topic)
  return ends.flatMap((end, p) => Array.from({ length: Number(end) }, (_, o) => `${p}:${o}`))
}

const running: RunningAutoscaler[] = []
const pools: LocalPoolBackend[] = []
after(async () => {
  await Promise.allSettled([...running.map((r) => r.close()), ...pools.map((p) => p.close())])
})

async function startScaler(
  topic: string,
  group: string,
  logs: WorkerLogs,
  config: Partial<AutoscalerConfigInput>,
  workUnitMs = WORK_UNIT_MS
): Promise<RunningAutoscaler> {
  const scaler = await createAutoscaler({
    connection: connection(),
    logger: quiet,
    onWorkerOutput: logs.onOutput,
    config: {
      group,
      topics: [topic],
      backend: 'local',
      min: 1,
      max: 8,
      interval: 1000,
      scaleOutCooldown: 0,
      scaleInCooldown: 4000,
      dashboard: { enabled: false },
      local: { consumerArgs: ['--work-unit-ms', String(workUnitMs)], killAfter: 20_000 },
      ...config
    }
  })
  running.push(scaler)
  return scaler
}

/** A local pool of `lagscale consumer` workers on the test broker (closed after the tests). */
function startPool(topic: string, group: string, logs: WorkerLogs, extraArgs: string[]): LocalPoolBackend {
  const consumerArgs = ['--bootstrap-server', testEnv().bootstrap, '--topic', topic, '--group', group, '--port', '0']
  const pool = createLocalPool({
    consumerArgs: [...consumerArgs, ...extraArgs],
    logger: quiet,
    onOutput: logs.onOutput
  })
  pools.push(pool)
  return pool
}

const runningWorkers = async (scaler: RunningAutoscaler) => (await scaler.backend.status()).running

describe('autoscaler with the local process pool, on the real broker', () => {
  test('8 partitions, 100 records of 0-10 units: scales out, each record once, lag 0, back to min', async (t) => {
    const topic = await freshTopic('scale8', 8)
    const group = uniqueName('scale8')
    const logs = new WorkerLogs()
    const scaler = await startScaler(
      topic,
      group,
      logs,
      { policy: 'drain', drain: { drainTargetMs: 3000, recordTimeMs: 100, rebalancePauseMs: 1000 } },
      SCALE_WORK_UNIT_MS
    )
    await waitFor(
      'the first worker to join',
      () => logs.events('assigned').some((l) => (l['partitions'] as number[]).length === 8),
      30_000
    )
    const started = performance.now()
    const units = await sendWork(topic, 100)
    const expected = await allRecordKeys(topic)
    assert.equal(expected.length, 100)

    let peak = 1
    await waitFor(
      'every record processed',
      async () => {
        peak = Math.max(peak, await runningWorkers(scaler))
        const counts = logs.endCounts()
        return expected.every((k) => counts.has(k))
      },
      90_000,
      { everyMs: 200, detail: () => `${logs.endCounts().size}/100 done, peak ${peak} workers` }
    )
    const drainedMs = Math.round(performance.now() - started)
    assert.ok(peak > 1, `the pool scaled out (peak ${peak} workers)`)
    const worked = logs.workersThatWorked()
    assert.ok(worked.size > 1, `more than one worker processed records: ${[...worked].join(', ')}`)

    const counts = logs.endCounts()
    assert.deepEqual([...counts.keys()].sort(), [...expected].sort(), 'the records sent, and nothing else')
    const twice = [...counts].filter(([, n]) => n > 1)
    assert.deepEqual(twice, [], 'each record processed exactly once')

    await waitFor('lag 0', () => scaler.loop.history.at(-1)?.sumOffsetLag === 0, 20_000)
    await waitFor('back to min (1 worker)', async () => (await runningWorkers(scaler)) === 1, 60_000, {
      detail: () => scaler.loop.decisions.at(-1)?.reason ?? ''
    })
    const outs = scaler.loop.decisions.filter((d) => d.action === 'scale-out' && d.applied)
    const ins = scaler.loop.decisions.filter((d) => d.action === 'scale-in' && d.applied)
    assert.ok(outs.length >= 2, 'scale-outs: the initial one to min and at least one on lag')
    assert.ok(ins.length >= 1, 'at least one scale-in')
    t.diagnostic(
      `${units} work units (${units * SCALE_WORK_UNIT_MS} ms of work) drained in ${drainedMs} ms; peak ${peak} workers; ` +
        `${worked.size} workers did work; decisions: ${scaler.loop.decisions.map((d) => `${d.action} ${d.from}->${d.desired}`).join(', ')}`
    )
  })

  test('1 partition: the seed policy runs 8 consumers and 7 idle (S23); drain stays at 1 and says why', async (t) => {
    const topic = await freshTopic('scale1', 1)

    const seedGroup = uniqueName('scale1-seed')
    const seedLogs = new WorkerLogs()
    const seed = await startScaler(topic, seedGroup, seedLogs, {
      policy: 'seed',
      seed: { datapointMs: 1000, scaleOutTo: 8, scaleInDatapoints: 100, ignorePartitionCap: true }
    })
    await sendWork(topic, 100)
    await waitFor('the seed policy to run 8 workers', async () => (await runningWorkers(seed)) === 8, 60_000)
    // All 8 in the group: one owns the partition, 7 have nothing.
    const members = await waitFor(
      '8 members in the group, rebalance done',
      () => {
        const o = seed.loop.history.at(-1)
        return o && o.members.length === 8 && o.groupState === 'Stable' && o.members
      },
      60_000,
      { detail: () => `${seed.loop.history.at(-1)?.members.length} members, ${seed.loop.history.at(-1)?.groupState}` }
    )
    const owners = members.filter((m) => m.partitions.length > 0)
    assert.equal(owners.length, 1, 'one member owns the only partition')
    assert.equal(members.length - owners.length, 7, '7 members have no partition: idle')
    // And the work shows it: 20 more records, now that all 8 run, go to one worker; 7 get none.
    const from = seedLogs.lines.length
    await sendWork(topic, 20, 13)
    await waitFor(
      '20 records processed after the 8th joined',
      () => seedLogs.lines.slice(from).filter((l) => l['event'] === 'END').length >= 20,
      60_000
    )
    const workedLater = new Set(
      seedLogs.lines
        .slice(from)
        .filter((l) => l['event'] === 'START')
        .map((l) => l.worker)
    )
    assert.equal(workedLater.size, 1, `one worker did all the work: ${[...workedLater].join(', ')}`)
    assert.equal((await seed.backend.status()).running, 8, '8 workers running (and paid for)')
    const seedOut = seed.loop.decisions.find((d) => d.action === 'scale-out' && d.desired === 8)
    assert.ok(seedOut, 'the seed decision to go to 8 is in the log')
    t.diagnostic(`seed: ${seedOut.reason}`)
    await seed.close()

    const drainGroup = uniqueName('scale1-drain')
    const drainLogs = new WorkerLogs()
    const drain = await startScaler(topic, drainGroup, drainLogs, {
      policy: 'drain',
      drain: { drainTargetMs: 10_000, recordTimeMs: 100, rebalancePauseMs: 1000 }
    })
    // The same 100 records are a backlog for this new group (reset policy earliest).
    await waitFor(
      'the drain policy to see the backlog and decide',
      () => drain.loop.decisions.find((d) => d.cap !== undefined),
      30_000,
      { detail: () => drain.loop.decisions.map((d) => d.reason).join(' | ') }
    )
    const capped = drain.loop.decisions.find((d) => d.cap !== undefined)!
    assert.equal(capped.desired, 1)
    assert.match(capped.reason, /capped at 1/)
    assert.match(capped.reason, /1 partition/)
    assert.ok(
      capped.cap?.recommendedPartitions !== undefined && capped.cap.recommendedPartitions > 1,
      `recommends more partitions: ${capped.reason}`
    )
    assert.match(capped.reason, new RegExp(`${capped.cap?.recommendedPartitions} partitions would drain`))
    for (const d of drain.loop.decisions) assert.ok(d.desired <= 1, `never more than 1 consumer: ${d.reason}`)
    assert.equal(await runningWorkers(drain), 1)
    t.diagnostic(`drain: ${capped.reason}`)
  })

  test('kill -9 of a worker mid-run: replaced by the pool, no record lost', async (t) => {
    const topic = await freshTopic('scale-kill', 4)
    const group = uniqueName('scale-kill')
    const logs = new WorkerLogs()
    const pool = startPool(topic, group, logs, ['--work-unit-ms', String(WORK_UNIT_MS), '--session-timeout-ms', '6000'])
    await pool.scaleTo(2)
    await waitFor('2 workers running', () => pool.workers.filter((w) => w.state === 'running').length === 2, 30_000)
    await sendWork(topic, 80, 11)
    const expected = await allRecordKeys(topic)
    const victim = await waitFor('a worker mid-record', () => {
      const last = logs.lines.filter((l) => l['event'] === 'START' || l['event'] === 'END').at(-1)
      return last?.['event'] === 'START' && Number(last['value']) >= 3 ? last.worker : undefined
    })
    const pid = pool.workers.find((w) => w.id === victim)?.pid
    assert.ok(pid, 'the victim has a pid')
    process.kill(pid, 'SIGKILL')
    // The pool's first two workers are worker-1 and worker-2; a third is the replacement.
    const replacement = await waitFor(
      'a replacement worker',
      () => pool.workers.find((w) => w.id !== 'worker-1' && w.id !== 'worker-2'),
      30_000
    )
    await waitFor(
      'every record processed',
      () => {
        const counts = logs.endCounts()
        return expected.every((k) => counts.has(k))
      },
      90_000,
      { everyMs: 200, detail: () => `${logs.endCounts().size}/${expected.length}` }
    )
    const status = await pool.status()
    assert.equal(status.running, 2, 'the pool is back at 2 workers')
    assert.ok(!pool.workers.some((w) => w.id === victim), 'the victim is gone from the pool')
    const counts = logs.endCounts()
    assert.deepEqual([...counts.keys()].sort(), [...expected].sort(), 'every record, nothing else')
    const twice = [...counts].filter(([, n]) => n > 1)
    t.diagnostic(`replacement ${replacement.id}; records finished twice: ${twice.length}`)
  })

  test('scale storm: 1 -> 8 -> 1 ten times under load, no record lost', async (t) => {
    const topic = await freshTopic('scale-storm', 8)
    const group = uniqueName('scale-storm')
    const logs = new WorkerLogs()
    const pool = startPool(topic, group, logs, ['--work-unit-ms', '10'])
    await pool.scaleTo(1)
    await sendWork(topic, 400, 3)
    const expected = await allRecordKeys(topic)
    const started = performance.now()
    for (let round = 1; round <= 10; round++) {
      await pool.scaleTo(8)
      await waitFor(
        `round ${round}: 8 workers running`,
        () => pool.workers.filter((w) => w.state === 'running').length === 8,
        60_000
      )
      await pool.scaleTo(1)
      await waitFor(`round ${round}: back to 1 worker`, () => pool.workers.length === 1, 60_000)
    }
    const stormMs = Math.round(performance.now() - started)
    const doneDuringStorm = logs.endCounts().size
    await waitFor(
      'every record processed',
      () => {
        const counts = logs.endCounts()
        return expected.every((k) => counts.has(k))
      },
      120_000,
      { everyMs: 200, detail: () => `${logs.endCounts().size}/${expected.length}` }
    )
    const counts = logs.endCounts()
    assert.deepEqual([...counts.keys()].sort(), [...expected].sort(), 'every record, nothing else')
    assert.ok(doneDuringStorm > 0, 'records were processed during the storm')
    const twice = [...counts].filter(([, n]) => n > 1)
    t.diagnostic(
      `10 rounds 1->8->1 in ${stormMs} ms; ${doneDuringStorm}/${expected.length} records done during the storm; ` +
        `${twice.length} finished twice (at-least-once)`
    )
  })
})
