/**
 * No orphan workers: `lagscale autoscale --backend local` and `lagscale up`, SIGKILLed under
 * load, leave no `lagscale consumer` running - every worker they spawned (read from their JSON
 * log) stops within its shutdown grace, finishing its record - and no record is lost: a fresh
 * consumer of the group afterwards gets through everything the pool left.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { createProducer } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { spawnCli, uniqueName } from '../support/cli.ts'
import { endOffsets, freshTopic } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'

/** The workers' shutdown grace (SHUTDOWN_GRACE_MS): how long a stopping worker may still work its record. */
const GRACE_MS = 8000
/** Each record's work: its value (0..10) x this. */
const WORK_UNIT_MS = 40

/** Appends "partition:offset" to $RECORD_FILE once a record's work is done (before its commit). */
const RECORDING_HANDLER = `import { appendFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
export default async function handle(record, { signal, settings }) {
  await sleep(Number(record.value) * settings.workUnitMs, undefined, { signal })
  appendFileSync(process.env.RECORD_FILE, record.partition + ':' + record.offset + '\\n')
}
`

/** Alive and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}

/** A lagscale process whose stdout JSON log lines are kept. */
class Logged {
  readonly child: ChildProcess
  readonly lines: Record<string, unknown>[] = []
  text = ''
  stderr = ''
  readonly closed: Promise<void>
  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawnCli(args, env)
    let partial = ''
    this.child.stdout?.on('data', (d: Buffer) => {
      this.text += d.toString()
      const parts = (partial + d.toString()).split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) {
        if (!line.startsWith('{')) continue
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          // not a log line
        }
      }
    })
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    this.closed = new Promise((resolve) => this.child.once('close', () => resolve()))
  }
  /** Pids of every worker the pool spawned (its worker-spawned events), standbys included. */
  workerPids(): number[] {
    return this.lines.filter((l) => l['event'] === 'worker-spawned').map((l) => l['pid'] as number)
  }
}

async function recordingHandler(): Promise<{ handler: string; recordFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'orphans-'))
  const handler = join(dir, 'record.mjs')
  const recordFile = join(dir, 'done.txt')
  writeFileSync(handler, RECORDING_HANDLER)
  writeFileSync(recordFile, '')
  return { handler, recordFile }
}

const done = (recordFile: string): Set<string> =>
  new Set(
    readFileSync(recordFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
  )

/** `count` records of values 0..10 (seeded), spread over the partitions. */
async function produceWork(topic: string, count: number): Promise<void> {
  let x = 17
  const producer = createProducer(resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} }))
  try {
    const messages = Array.from({ length: count }, () => {
      x = (x * 1103515245 + 12345) % 2147483648
      return { topic, value: Buffer.from(String(x % 11)) }
    })
    await producer.send({ messages })
  } finally {
    await producer.close()
  }
}

/**
 * SIGKILLs `owner` once the pool runs `minWorkers` and records are being worked, then checks
 * that every worker it spawned is gone within the grace and that a fresh consumer of the group
 * gets every record of the topic done. Returns numbers for the diagnostics.
 */
async function killAndCheck(
  owner: Logged,
  o: { topic: string; group: string; handler: string; recordFile: string; minWorkers: number }
): Promise<string> {
  let fresh: Logged | undefined
  try {
    await waitFor(
      `${o.minWorkers} workers started and records being worked`,
      () => owner.workerPids().length >= o.minWorkers && done(o.recordFile).size >= 30,
      90_000,
      {
        everyMs: 200,
        detail: () =>
          `${owner.workerPids().length} spawned, ${done(o.recordFile).size} done; ${owner.stderr.slice(-400)}`
      }
    )
    const pids = owner.workerPids()
    const doneBefore = done(o.recordFile).size
    owner.child.kill('SIGKILL')
    const killedAt = performance.now()
    await owner.closed
    await waitFor('every worker the pool spawned to exit', () => pids.every((pid) => !alive(pid)), GRACE_MS + 20_000, {
      everyMs: 50,
      detail: () => `still alive: ${pids.filter(alive).join(', ')}`
    })
    const goneMs = Math.round(performance.now() - killedAt)
    assert.ok(goneMs <= GRACE_MS, `all ${pids.length} workers gone ${goneMs} ms after the kill (grace ${GRACE_MS} ms)`)

    // Whatever the pool left - unworked, or abandoned and not committed - a fresh consumer of the group does.
    const expected = (await endOffsets(o.topic)).flatMap((end, p) =>
      Array.from({ length: Number(end) }, (_, offset) => `${p}:${offset}`)
    )
    fresh = new Logged(
      [
        'consumer',
        '--bootstrap-server',
        testEnv().bootstrap,
        '--topic',
        o.topic,
        '--group',
        o.group,
        '--port',
        '0',
        '--handler',
        o.handler,
        '--work-unit-ms',
        '2'
      ],
      { RECORD_FILE: o.recordFile }
    )
    await waitFor(
      'every record of the topic done at least once',
      () => {
        const d = done(o.recordFile)
        return expected.every((k) => d.has(k))
      },
      90_000,
      {
        everyMs: 200,
        detail: () => {
          const d = done(o.recordFile)
          return `missing ${expected
            .filter((k) => !d.has(k))
            .slice(0, 10)
            .join(', ')}; ${fresh?.stderr.slice(-400)}`
        }
      }
    )
    fresh.child.kill('SIGTERM')
    await fresh.closed
    return `${pids.length} workers gone ${goneMs} ms after SIGKILL; ${doneBefore} of ${expected.length} records done before`
  } finally {
    stopAll(owner, fresh)
  }
}

/** Never leaves a process of the test behind, even when it failed. */
function stopAll(...processes: (Logged | undefined)[]): void {
  for (const p of processes) {
    if (!p) continue
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
    for (const pid of p.workerPids()) if (alive(pid)) process.kill(pid, 'SIGKILL')
  }
}

describe('no orphan workers when the process that spawned them is SIGKILLed', () => {
  test('lagscale autoscale --backend local', async (t) => {
    const topic = await freshTopic('orphans', 4)
    const group = uniqueName('orphans')
    const { handler, recordFile } = await recordingHandler()
    await produceWork(topic, 200)
    const owner = new Logged(
      [
        'autoscale',
        '--backend',
        'local',
        '--bootstrap-server',
        testEnv().bootstrap,
        '--topic',
        topic,
        '--group',
        group,
        '--min',
        '2',
        '--max',
        '4',
        '--interval',
        '1s',
        '--scale-out-cooldown',
        '0',
        '--drain-target',
        '5s',
        '--handler',
        handler,
        '--work-unit-ms',
        String(WORK_UNIT_MS),
        '--standby',
        '1',
        '--no-dashboard'
      ],
      { RECORD_FILE: recordFile, SHUTDOWN_GRACE_MS: String(GRACE_MS) }
    )
    t.diagnostic(await killAndCheck(owner, { topic, group, handler, recordFile, minWorkers: 3 }))
  })

  test('lagscale up', async (t) => {
    const env = testEnv()
    const topic = uniqueName('orphans-up')
    const { handler, recordFile } = await recordingHandler()
    const owner = new Logged(
      [
        'up',
        '--port',
        env.bootstrap.split(':').at(-1)!,
        '--topic',
        topic,
        '--group',
        topic,
        '--partitions',
        '4',
        '--producer-port',
        '0',
        '--dashboard-port',
        '0',
        '--min',
        '2',
        '--max',
        '4',
        '--interval',
        '1s',
        '--drain-target',
        '5s',
        '--handler',
        handler,
        '--work-unit-ms',
        String(WORK_UNIT_MS)
      ],
      { LAGSCALE_HOME: env.home, RECORD_FILE: recordFile, SHUTDOWN_GRACE_MS: String(GRACE_MS) }
    )
    try {
      await waitFor('the "lagscale is up" banner', () => /press Ctrl-C/.test(owner.text), 60_000, {
        detail: () => `stdout: ${owner.text.slice(-500)} stderr: ${owner.stderr.slice(-500)}`
      })
      // Load through the producer app, as a user sends it: 200 records of random values 0..10.
      const producerUrl = /producer +(http:\/\/\S+)\/msk-producer/.exec(owner.text)?.[1]
      assert.ok(producerUrl, owner.text)
      const sent = await fetch(`${producerUrl}/msk-producer-send`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'message=200'
      })
      assert.match(await sent.text(), /Messages sent: 200/)
    } catch (err) {
      stopAll(owner)
      throw err
    }
    t.diagnostic(await killAndCheck(owner, { topic, group: topic, handler, recordFile, minWorkers: 3 }))
  })
})
