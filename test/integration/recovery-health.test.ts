/**
 * The container health check a platform runs on a worker (the consumer image's HEALTHCHECK, the
 * same fetch as the ECS task definition's) while the worker's only broker is down for good: it
 * passes through the first seconds of the outage (a broker restart or a rebalance must not get
 * every task replaced), fails once the worker has been out of the group longer than its
 * rebalance timeout (so ECS replaces the task), and SIGTERM still stops the worker promptly.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../src/broker/local-broker.ts'
import { uniqueName } from '../support/cli.ts'
import { createTopicOn, type OwnBroker, startOwnBroker } from '../support/own-broker.ts'
import { waitFor } from '../support/wait.ts'
import { WorkerProcess } from '../support/worker-process.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'lagscale-recovery-health-'))
let broker: OwnBroker | undefined
let worker: WorkerProcess | undefined
after(async () => {
  await worker?.stop()
  await broker?.stop().catch(() => {})
  rmSync(dataDir, { recursive: true, force: true })
})

/** The consumer image's HEALTHCHECK command, as docker/consumer.Dockerfile declares it. */
function imageHealthCheck(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../docker/consumer.Dockerfile', import.meta.url)), 'utf8')
  const json = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)?.[1]
  assert.ok(json, 'the Dockerfile has a HEALTHCHECK CMD')
  return JSON.parse(json) as string[]
}

/** Runs the health check command against the worker on `port`; its exit code (0 healthy). */
function runHealthCheck(command: string[], port: number): number | null {
  const [file, ...args] = command
  const r = spawnSync(file === 'node' ? process.execPath : file!, args, {
    env: { ...process.env, PORT: String(port) },
    timeout: 5000
  })
  return r.status
}

describe('worker health through an outage that lasts', () => {
  test('the image health check passes early in the outage, fails after the rebalance timeout; SIGTERM still exits 0', async (t) => {
    const check = imageHealthCheck()
    broker = await startOwnBroker(dataDir)
    const bootstrap = broker.bootstrap
    const topic = uniqueName('health-outage')
    await createTopicOn(bootstrap, topic)
    const port = await freePort()
    const w = new WorkerProcess('w0', ['--bootstrap-server', bootstrap, '--topic', topic, '--group', uniqueName('h')], {
      PORT: String(port),
      HOST: '127.0.0.1',
      SESSION_TIMEOUT_MS: '6000',
      HEARTBEAT_INTERVAL_MS: '500'
    })
    worker = w
    await waitFor('the worker in the group', () => w.events('assigned').length > 0, 30_000)
    assert.equal(runHealthCheck(check, port), 0, 'healthy while consuming')

    await broker.kill()
    await waitFor('the worker noticed', () => w.events('session-lost').length > 0, 30_000)
    const lostAt = w.arrivals.find((l) => l.line.event === 'session-lost')!.at
    assert.equal(runHealthCheck(check, port), 0, 'still healthy a few seconds into the outage')

    await waitFor('the health check to fail', () => runHealthCheck(check, port) === 1, 60_000, { everyMs: 1000 })
    const failedAfterMs = Math.round(performance.now() - lostAt)
    // The worker's rebalance timeout is 30 s (max of the session timeout and 30 s).
    assert.ok(
      failedAfterMs >= 25_000 && failedAfterMs <= 45_000,
      `failed ${failedAfterMs} ms after the session was lost`
    )

    const stopping = Date.now()
    await w.stop()
    assert.equal(await w.exited, 0, w.stderr)
    const stopMs = Date.now() - stopping
    assert.ok(stopMs < 15_000, `SIGTERM with the broker down took ${stopMs} ms`)
    t.diagnostic(`health check failed ${failedAfterMs} ms into the outage; SIGTERM exit in ${stopMs} ms`)
  })
})
