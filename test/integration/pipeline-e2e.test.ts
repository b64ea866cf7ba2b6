/**
 * The whole pipeline, end to end: the producer app -> a 4-partition topic -> two
 * `lagscale consumer` processes in one group. Which records to expect comes from the
 * topic itself (its log-end offsets before and after the 200), what was done from the
 * workers' START/END log lines.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { after, describe, test } from 'node:test'
import pino from 'pino'
import { freePort } from '../../src/broker/local-broker.ts'
import type { Worker } from '../../src/consumer/worker.ts'
import { createAdmin } from '../../src/kafka/clients.ts'
import { type ConnectionConfig, resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { describeGroup, type GroupDescription } from '../../src/kafka/groups.ts'
import { producerConfig } from '../../src/producer/config.ts'
import { type ProducerApp, startProducerApp } from '../../src/producer/server.ts'
import { spawnCli, uniqueName } from '../support/cli.ts'
import { endOffsets, freshTopic, readTopicRecords } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'

const PARTITIONS = 4
type LogLine = Record<string, unknown> & { event?: string; msg?: string }

const connection = (): ConnectionConfig =>
  resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {}, clientId: 'pipeline-e2e-test' })

const apps: ProducerApp[] = []
const workers: WorkerProcess[] = []
const inProcess: Worker[] = []

after(async () => {
  for (const w of workers) w.kill('SIGKILL')
  await Promise.all(workers.map((w) => w.exited))
  await Promise.allSettled(inProcess.map((w) => w.stop('test over')))
  await Promise.all(apps.map((a) => a.close()))
})

/** Polls `check` (for state that only a request can tell, like a group's lag) until it holds. */
const poll = <T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> =>
  waitFor(what, check, timeoutMs, { everyMs: 200 })

/** `lagscale consumer` as a process; its JSON log lines are parsed as they arrive, and `until` wakes on each. */
class WorkerProcess {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  readonly lines: LogLine[] = []
  readonly exited: Promise<number | null>
  stderr = ''
  #partial = ''
  readonly #waiters = new Set<() => void>()

  constructor(name: string, topic: string, group: string, env: NodeJS.ProcessEnv) {
    this.name = name
    this.child = spawnCli(
      ['consumer', '--bootstrap-server', testEnv().bootstrap, '--topic', topic, '--group', group],
      env
    )
    assert.ok(this.child.pid, `${name} started`)
    this.pid = this.child.pid
    this.child.stdin?.end()
    this.child.stdout?.on('data', (d: Buffer) => {
      const parts = (this.#partial + d.toString()).split('\n')
      this.#partial = parts.pop() ?? ''
      for (const p of parts) {
        if (!p.trim()) continue
        this.lines.push(JSON.parse(p) as LogLine)
        this.#wake()
      }
    })
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        resolve(code)
        this.#wake()
      })
    )
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w()
  }

  events(event: string): LogLine[] {
    return this.lines.filter((l) => l.event === event)
  }

  ended(): string[] {
    return this.events('END').map(lineKey)
  }

  lastAssignment(): number[] {
    return (this.events('assigned').at(-1)?.['partitions'] as number[] | undefined) ?? []
  }

  /** Calls `fn` on each log line and at exit; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.#waiters.add(fn)
    return () => this.#waiters.delete(fn)
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** By PID; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void {
    if (!this.running) return
    try {
      process.kill(this.pid, signal)
    } catch {
      // already gone
    }
  }
}

const lineKey = (l: LogLine): string => `${l['partition']}:${l['offset']}`

/**
 * Resolves once `check` holds, checked on every log line of `ws` (no polling); fails
 * if one of them exits first or after `timeoutMs`.
 */
function until<T>(
  ws: WorkerProcess[],
  what: string,
  check: () => T | undefined | false,
  timeoutMs = 60_000,
  detail: () => string = () => ''
): Promise<T> {
  return new Promise((resolve, reject) => {
    const unsubscribe: (() => void)[] = []
    const finish = (): void => {
      clearTimeout(timer)
      for (const u of unsubscribe) u()
    }
    const attempt = (): void => {
      const value = check()
      if (value !== undefined && value !== false) {
        finish()
        resolve(value)
        return
      }
      const dead = ws.find((w) => !w.running)
      if (dead) {
        finish()
        reject(new Error(`${dead.name} exited while waiting for ${what}: ${dead.stderr}`))
      }
    }
    const timer = setTimeout(() => {
      finish()
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${detail()}`.trim()))
    }, timeoutMs)
    for (const w of ws) unsubscribe.push(w.subscribe(attempt))
    attempt()
  })
}

async function startWorkers(n: number, topic: string, group: string, workUnitMs: number): Promise<WorkerProcess[]> {
  const started: WorkerProcess[] = []
  for (let i = 0; i < n; i++) {
    const w = new WorkerProcess(`w${i}`, topic, group, {
      PORT: String(await freePort()),
      WORK_UNIT_MS: String(workUnitMs),
      SESSION_TIMEOUT_MS: '6000',
      HEARTBEAT_INTERVAL_MS: '500',
      LOG_LEVEL: 'info'
    })
    workers.push(w)
    started.push(w)
  }
  // Both own partitions, together all of them, without overlap: no rebalance will redo records.
  await until(started, 'a balanced group', () => {
    const all = started.map((w) => w.lastAssignment())
    const flat = all.flat()
    return all.every((a) => a.length > 0) && flat.length === PARTITIONS && new Set(flat).size === PARTITIONS
  })
  return started
}

async function startApp(topic: string): Promise<ProducerApp> {
  const app = await startProducerApp(producerConfig({ connection: connection(), topic, port: 0, host: '127.0.0.1' }), {
    logger: pino({ level: 'silent' })
  })
  apps.push(app)
  return app
}

/** POSTs message=N as the page's form does; returns the records it added: partition:offset -> value. */
async function send(app: ProducerApp, topic: string, n: number): Promise<Map<string, string>> {
  const before = await endOffsets(topic, PARTITIONS)
  const r = await fetch(`${app.url}/msk-producer-send`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `message=${n}`
  })
  assert.deepEqual([r.status, await r.text()], [200, `Messages sent: ${n}`])
  const afterEnds = await endOffsets(topic, PARTITIONS)
  const added = new Set<string>()
  for (let p = 0; p < PARTITIONS; p++) {
    for (let o = before[p]!; o < afterEnds[p]!; o++) added.add(`${p}:${o}`)
  }
  assert.equal(added.size, n, `the 200 means ${n} records on the topic (log-end ${before} -> ${afterEnds})`)

  // The values, read back from the topic.
  const values = new Map<string, string>()
  for (const record of await readTopicRecords(topic, afterEnds)) {
    const key = `${record.partition}:${record.offset}`
    if (added.has(key)) values.set(key, record.value)
  }
  assert.equal(values.size, n, 'every new record read back')
  for (const v of values.values()) assert.match(v, /^(?:[0-9]|10)$/, `value ${v} is an integer 0..10`)
  return values
}

async function group(groupId: string): Promise<GroupDescription | undefined> {
  const admin = createAdmin(connection())
  try {
    return await describeGroup(admin, groupId)
  } catch {
    return undefined // not there yet
  } finally {
    await admin.close().catch(() => {})
  }
}

/** The group has committed every partition up to its log end. */
function drained(groupId: string, timeoutMs = 60_000): Promise<GroupDescription> {
  return poll(
    `group ${groupId} lag 0`,
    async () => {
      const g = await group(groupId)
      return (
        g !== undefined &&
        g.partitions.length === PARTITIONS &&
        g.summary.partitionsUnknown === 0 &&
        g.summary.sumOffsetLag === 0n &&
        g
      )
    },
    timeoutMs
  )
}

/** How often each record was finished (END), over all workers. */
function endCounts(ws: WorkerProcess[]): Map<string, number> {
  return tally(ws.flatMap((w) => w.ended()))
}

/** For timeouts: which records are not finished, and what each worker said last. */
function progress(ws: WorkerProcess[], expected: string[]): string {
  const counts = endCounts(ws)
  const missing = expected.filter((k) => !counts.has(k))
  const tails = ws.map(
    (w) =>
      `${w.name}: ${w.lines
        .slice(-4)
        .map((l) => JSON.stringify(l))
        .join(' ')} ${w.stderr}`
  )
  return `(not finished: ${missing.join(', ')}; last log lines: ${tails.join(' | ')})`
}

/** How often each record was started (START), over all workers. */
function startCounts(ws: WorkerProcess[]): Map<string, number> {
  return tally(ws.flatMap((w) => w.events('START').map(lineKey)))
}

function tally(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1)
  return counts
}

describe('pipeline: producer app -> 4 partitions -> 2 consumer processes', () => {
  test('60 records from the form endpoint: each processed exactly once, by both workers', async (t) => {
    const topic = await freshTopic('e2e', PARTITIONS)
    const groupId = uniqueName('e2e')
    const app = await startApp(topic)
    const ws = await startWorkers(2, topic, groupId, 5)
    const [a, b] = ws as [WorkerProcess, WorkerProcess]

    const started = performance.now()
    const records = await send(app, topic, 60)
    const expected = [...records.keys()]
    await until(
      ws,
      'every record finished',
      () => {
        const counts = endCounts(ws)
        return expected.every((k) => counts.has(k))
      },
      60_000,
      () => progress(ws, expected)
    )
    const g = await drained(groupId)
    t.diagnostic(`POST -> 60 records processed and committed: ${Math.round(performance.now() - started)} ms`)

    const counts = endCounts(ws)
    assert.deepEqual([...counts.keys()].sort(), [...expected].sort(), 'the records sent, and nothing else')
    for (const [key, n] of counts) assert.equal(n, 1, `${key} processed exactly once`)
    for (const w of ws) {
      assert.ok(w.ended().length > 0, `${w.name} did work`)
      assert.deepEqual(
        w.events('START').map(lineKey),
        w.ended(),
        `${w.name}: one at a time, each START followed by its END`
      )
      for (const l of w.events('START')) {
        assert.equal(l['value'], records.get(lineKey(l)), `${w.name} got the value of ${lineKey(l)}`)
        assert.ok(w.lastAssignment().includes(Number(l['partition'])), `${w.name} owns partition ${l['partition']}`)
      }
    }
    t.diagnostic(`${a.name}: ${a.ended().length} records, ${b.name}: ${b.ended().length} records`)
    for (const row of g.partitions) assert.equal(row.committedOffset, row.logEndOffset, `partition ${row.partition}`)
    assert.equal(g.members, 2)

    for (const w of ws) w.kill('SIGTERM')
    for (const w of ws) assert.equal(await w.exited, 0, `${w.name} exits 0 on SIGTERM: ${w.stderr}`)
  })

  test('kill -9 of a worker mid-work: the survivor takes its partitions over, nothing is lost', async (t) => {
    const topic = await freshTopic('e2e-kill', PARTITIONS)
    const groupId = uniqueName('e2e-kill')
    const app = await startApp(topic)
    const ws = await startWorkers(2, topic, groupId, 50)
    const [victim, survivor] = ws as [WorkerProcess, WorkerProcess]
    const victimPartitions = victim.lastAssignment()

    const records = await send(app, topic, 48)
    const expected = [...records.keys()]
    // Mid-work: the victim has finished (and committed) records on each of its partitions and
    // has started a long one (value >= 3: at least 150 ms of work) whose END has not come.
    // Checked on each log line. (A commit on each partition keeps this test off the bug that
    // the 'known bug' test below shows: a partition taken over without any commit can be skipped.)
    const inFlight = await until([victim], 'the victim mid-work', () => {
      const touched = new Set(victim.events('END').map((l) => Number(l['partition'])))
      if (!victimPartitions.every((p) => touched.has(p))) return undefined
      const last = victim.lines.filter((l) => l.event === 'START' || l.event === 'END').at(-1)
      return last?.event === 'START' && Number(last['value']) >= 3 && last
    })
    const killedAt = performance.now()
    victim.kill('SIGKILL')
    const exitCode = await victim.exited
    assert.equal(exitCode, null, 'killed by the signal')
    assert.equal(victim.child.signalCode, 'SIGKILL')

    // After the session timeout the group gives the victim's partitions to the survivor.
    await until([survivor], 'the survivor owns all 4 partitions', () => survivor.lastAssignment().length === PARTITIONS)
    const takeoverMs = Math.round(performance.now() - killedAt)
    await until(
      [survivor],
      'every record finished by someone',
      () => {
        const counts = endCounts(ws)
        return expected.every((k) => counts.has(k))
      },
      60_000,
      () => progress(ws, expected)
    )
    const g = await drained(groupId)
    const drainedMs = Math.round(performance.now() - killedAt)

    const inFlightKey = lineKey(inFlight)
    const victimEnded = new Set(victim.ended())
    const unfinished = victim.events('START').filter((l) => !victimEnded.has(lineKey(l)))
    assert.ok(unfinished.length >= 1, 'the victim was killed with a record started and not finished')
    assert.ok(
      unfinished.some((l) => lineKey(l) === inFlightKey),
      `${inFlightKey} (value ${inFlight['value']}) was in flight at kill -9`
    )
    for (const l of unfinished) {
      assert.ok(survivor.ended().includes(lineKey(l)), `${lineKey(l)}, killed mid-work, was redone by the survivor`)
    }

    const counts = endCounts(ws)
    assert.deepEqual([...counts.keys()].sort(), [...expected].sort(), 'every record processed, nothing else')
    const survivorWork = survivor.events('START').map(lineKey)
    assert.ok(
      survivorWork.some((k) => victimPartitions.includes(Number(k.split(':')[0]))),
      `the survivor worked on the victim's partitions ${victimPartitions}`
    )
    assert.equal(g.summary.sumOffsetLag, 0n)
    assert.equal(g.members, 1, 'only the survivor is left in the group')
    for (const row of g.partitions) {
      assert.equal(row.committedOffset, row.logEndOffset, `partition ${row.partition} committed to its end`)
    }

    // At-least-once: what ran twice. The record in flight at kill -9 was started twice (finished
    // once); a commit refused during the takeover's rebalance would make its record run twice too.
    const startedTwice = [...startCounts(ws)].filter(([, n]) => n > 1)
    const finishedTwice = [...counts].filter(([, n]) => n > 1)
    const list = (d: [string, number][]): string => d.map(([k, n]) => `${k} x${n}`).join(', ') || 'none'
    t.diagnostic(
      `duplicates: ${finishedTwice.length} of ${expected.length} records finished (END) more than once (${list(finishedTwice)}); ` +
        `${startedTwice.length} started (START) more than once (${list(startedTwice)})`
    )
    t.diagnostic(
      `kill -9 with ${inFlightKey} (value ${inFlight['value']}) in flight -> survivor owns all partitions: ${takeoverMs} ms`
    )
    t.diagnostic(`kill -9 -> group lag 0: ${drainedMs} ms`)
    t.diagnostic(
      `the victim (partitions ${victimPartitions}) finished ${victim.ended().length} records, the survivor ${survivor.ended().length}`
    )

    survivor.kill('SIGTERM')
    assert.equal(await survivor.exited, 0, survivor.stderr)
  })
})
