/**
 * The autoscaler with a local pool through a broker outage: its own broker, killed with -9 under
 * a backlog and started again on the same data. What is checked: the autoscaler marks its data
 * stale and takes no scaling action while the broker is down, observes again after it, every
 * pool worker is back in the group (no replacement needed: they rejoin on their own within the
 * health check's grace), lag ends at 0, every record was done at least once, and no scale storm
 * follows the restart.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import type { PoolWorkerInfo } from '../../src/autoscaler/backends/local.ts'
import { createAutoscaler, type RunningAutoscaler } from '../../src/autoscaler/index.ts'
import { createAdmin } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { logEndOffsets } from '../../src/kafka/groups.ts'
import { createLogger } from '../../src/log.ts'
import { uniqueName } from '../support/cli.ts'
import { createTopicOn, type OwnBroker, ones, produceLines, startOwnBroker } from '../support/own-broker.ts'
import { waitFor } from '../support/wait.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'lagscale-recovery-autoscaler-'))
let broker: OwnBroker | undefined
let scaler: RunningAutoscaler | undefined
after(async () => {
  await scaler?.close().catch(() => {})
  await broker?.stop().catch(() => {})
  rmSync(dataDir, { recursive: true, force: true })
})

const PARTITIONS = 4

describe('autoscaler through a broker outage', () => {
  test('local pool, broker kill -9 and restart: holds while stale, workers rejoin, lag 0, nothing lost, no storm', async (t) => {
    broker = await startOwnBroker(dataDir)
    const bootstrap = broker.bootstrap
    const connection = resolveConnectionConfig({ bootstrapServer: bootstrap, env: {}, clientId: 'recovery-scaler' })
    const topic = uniqueName('scaler-outage')
    const group = uniqueName('scaler-outage')
    await createTopicOn(bootstrap, topic, PARTITIONS)
    const produce = (n: number) => produceLines(bootstrap, topic, ones(n))
    await produce(600)

    const ends: string[] = []
    const endLog: { key: string; at: number; worker: string }[] = []
    const onOutput = (w: PoolWorkerInfo, line: string): void => {
      if (!line.includes('"event":"END"')) return
      const l = JSON.parse(line) as { partition: number; offset: string }
      ends.push(`${l.partition}:${l.offset}`)
      endLog.push({ key: `${l.partition}:${l.offset}`, at: Date.now(), worker: w.id })
    }
    scaler = await createAutoscaler({
      connection,
      logger: createLogger({ name: 'test-autoscaler', level: 'warn' }),
      onWorkerOutput: onOutput,
      config: {
        group,
        topics: [topic],
        backend: 'local',
        min: 2,
        max: 4,
        interval: 1000,
        policy: 'drain',
        dashboard: { enabled: false },
        local: {
          consumerArgs: ['--work-unit-ms', '20', '--session-timeout-ms', '6000'],
          killAfter: 20_000
        }
      }
    })
    const s = scaler
    await waitFor('150 records done', () => ends.length >= 150, 60_000)

    const killedAt = Date.now()
    await broker.kill()
    await waitFor('a stale observation', () => s.loop.history.some((o) => o.at >= killedAt && o.stale), 30_000)
    const runningAtKill = (await s.backend.status()).running

    await broker.restart()
    const upAt = Date.now()
    const actionsWhileDown = s.loop.decisions.filter(
      (d) => d.at >= killedAt && d.at < upAt && d.applied && d.action !== 'hold'
    )
    assert.deepEqual(
      actionsWhileDown.map((d) => `${d.action} ${d.reason}`),
      [],
      'no scaling action on stale data'
    )
    await waitFor(
      'a fresh observation with every pool worker in the group',
      async () => {
        const o = s.loop.history.at(-1)
        const running = (await s.backend.status()).running
        return o && o.at >= upAt && !o.stale && o.members.length === running && running >= 2
      },
      60_000,
      { everyMs: 500, detail: () => s.loop.decisions.at(-1)?.reason ?? '' }
    )
    const backAt = Date.now()
    const rejoinedMs = backAt - upAt

    await produce(200)
    await waitFor(
      'lag 0',
      () => {
        const o = s.loop.history.at(-1)
        return o && o.at > upAt && !o.stale && o.sumOffsetLag === 0 && o.partitions.length === PARTITIONS
      },
      120_000
    )

    const admin = createAdmin(connection)
    const logEnd = await logEndOffsets(admin, new Map([[topic, [0, 1, 2, 3]]]))
    await admin.close()
    const expected = [...logEnd].flatMap(([key, end]) =>
      Array.from({ length: Number(end) }, (_, o) => `${key.slice(key.lastIndexOf(':') + 1)}:${o}`)
    )
    assert.equal(expected.length, 800)
    const done = new Set(ends)
    assert.deepEqual(
      expected.filter((k) => !done.has(k)),
      [],
      'every record done at least once'
    )
    // Work finished while commits could not land is redone: at most that, plus a commit on the wire per partition.
    const duplicates = ends.length - done.size
    const inFlight = endLog.filter((e) => e.at >= killedAt && e.at <= backAt).length + PARTITIONS
    assert.ok(duplicates <= inFlight, `${duplicates} duplicates, more than the ${inFlight} in flight`)
    const after = s.loop.decisions.filter((d) => d.at >= upAt && d.applied && d.action !== 'hold')
    // A storm would be scale-outs and -ins chasing each other, or replacements, after the cluster returned.
    assert.ok(
      after.length <= 3,
      `${after.length} scaling actions after the restart: ${after.map((d) => d.action).join(', ')}`
    )
    const replaced = s.loop.decisions.flatMap((d) => d.health?.replaced ?? [])
    assert.deepEqual(replaced, [], 'workers rejoined on their own; none needed replacing')
    t.diagnostic(
      `${runningAtKill} workers at the kill; all back in the group ${rejoinedMs} ms after the broker; ` +
        `${duplicates} duplicate(s) (bound ${inFlight}); ${after.length} scaling action(s) after the restart`
    )
  })
})
