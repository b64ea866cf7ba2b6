import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { describe, test } from 'node:test'
import pino from 'pino'
import { DLT_HEADERS } from '../../src/consumer/dead-letter.ts'
import { HEALTH_PATH } from '../../src/consumer/http.ts'
import { createWorker, type Worker } from '../../src/consumer/worker.ts'
import { createBatchProducer } from '../../src/kafka/batch-producer.ts'
import { createAdmin, createConsumer, type RawConsumedMessage } from '../../src/kafka/clients.ts'
import { type ConnectionConfig, resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { describeGroup, groupExists } from '../../src/kafka/groups.ts'
import { describeTopics } from '../../src/kafka/topics.ts'
import { uniqueName } from '../support/cli.ts'
import { freshTopic } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'
import { type LogLine, startWorkerProcesses, WorkerProcess } from '../support/worker-process.ts'

const connection = (): ConnectionConfig =>
  resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {}, clientId: 'consumer-worker-test' })

/** Produces [partition, key, value] records and waits until all are acknowledged. */
async function produce(topic: string, records: [number, string, string | null][]): Promise<void> {
  const producer = createBatchProducer(connection(), { lanes: 1 })
  for (const [partition, key, value] of records) {
    const message = {
      topic,
      partition,
      key: Buffer.from(key),
      ...(value === null ? {} : { value: Buffer.from(value) })
    }
    if (!producer.write(message)) await producer.ready()
  }
  await producer.close()
}

/** Polls `check` until it returns a value other than undefined/false; fails after timeoutMs. */
async function groupLag(group: string): Promise<{ lag: bigint; members: number; unknown: number; rows: number }> {
  const admin = createAdmin(connection())
  try {
    const d = await describeGroup(admin, group)
    return {
      lag: d.summary.sumOffsetLag,
      members: d.members,
      unknown: d.summary.partitionsUnknown,
      rows: d.partitions.length
    }
  } catch {
    return { lag: -1n, members: 0, unknown: 0, rows: 0 }
  } finally {
    await admin.close().catch(() => {})
  }
}

/** Waits until the group has committed every one of `partitions` partitions up to the log end. */
function drained(group: string, partitions: number, timeoutMs = 60_000): Promise<true> {
  return waitFor(
    `group ${group} lag 0`,
    async () => {
      const g = await groupLag(group)
      return g.rows >= partitions && g.unknown === 0 && g.lag === 0n
    },
    timeoutMs
  )
}

/** A logger whose JSON lines land in an array. */
function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogLine)
      done()
    }
  })
  // The same ISO timestamps as src/log.ts createLogger.
  return { logger: pino({ level: 'info', timestamp: pino.stdTimeFunctions.isoTime }, stream), lines }
}

/** A worker on the test broker. */
const testWorker = (name: string, args: string[], env: NodeJS.ProcessEnv, options: { keepStdin?: boolean } = {}) =>
  new WorkerProcess(name, ['--bootstrap-server', testEnv().bootstrap, ...args], env, options)

const done = (lines: LogLine[]): string[] =>
  lines.filter((l) => l.event === 'END').map((l) => `${l['partition']}:${l['offset']}`)

function startWorkers(
  n: number,
  topic: string,
  group: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {}
): Promise<WorkerProcess[]> {
  return startWorkerProcesses(n, testEnv().bootstrap, topic, group, env, extraArgs)
}

/** Every worker has partitions and together they own all of them, without overlap. */
function balanced(workers: WorkerProcess[], partitions: number): boolean {
  const all = workers.map((w) => w.lastAssignment() ?? [])
  if (all.some((a) => a.length === 0)) return false
  const flat = all.flat()
  return flat.length === partitions && new Set(flat).size === partitions
}

async function stopAll(workers: WorkerProcess[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM')
  await Promise.all(workers.map((w) => w.exited))
}

async function readAll(topic: string, count: number): Promise<RawConsumedMessage[]> {
  const consumer = createConsumer(connection(), uniqueName('dlt-reader'), { autocommit: false, maxWaitTime: 500 })
  const out: RawConsumedMessage[] = []
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', sessionTimeout: 10_000 })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${out.length}/${count} records in ${topic}`)), 20_000)
      stream.on('data', (m: RawConsumedMessage) => {
        out.push(m)
        if (out.length >= count) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
  } finally {
    await consumer.close(true).catch(() => {})
  }
  return out
}

describe('lagscale consumer worker', () => {
  test('one worker: per-partition order, START/END logs, commits after work, health and metrics', async () => {
    const topic = await freshTopic('cw-order', 3)
    const group = uniqueName('cw-order')
    const records: [number, string, string][] = []
    for (let i = 0; i < 30; i++) records.push([i % 3, `k${i}`, String(i % 3)])
    await produce(topic, records)

    const { logger, lines } = capturingLogger()
    const worker: Worker = createWorker({
      connection: connection(),
      topic,
      group,
      port: 0,
      host: '127.0.0.1',
      workUnitMs: 5,
      lagIntervalMs: 200,
      logger
    })
    await worker.start()
    try {
      await drained(group, 3)
      const starts = lines.filter((l) => l.event === 'START')
      const ends = lines.filter((l) => l.event === 'END')
      assert.equal(starts.length, 30)
      assert.equal(ends.length, 30)
      for (const p of [0, 1, 2]) {
        const offsets = starts.filter((l) => l['partition'] === p).map((l) => Number(l['offset']))
        assert.deepEqual(
          offsets,
          Array.from({ length: 10 }, (_, i) => i),
          `partition ${p} in order`
        )
      }
      // One at a time: every START is followed by its END before the next START.
      const sequence = lines.filter((l) => l.event === 'START' || l.event === 'END')
      for (let i = 0; i < sequence.length; i += 2) {
        assert.equal(sequence[i]!.event, 'START')
        assert.equal(sequence[i + 1]!.event, 'END')
        assert.equal(sequence[i + 1]!['offset'], sequence[i]!['offset'])
      }
      const first = starts.find((l) => l['key'] === 'k3')!
      assert.equal(first['value'], '0')
      assert.equal(first['partition'], 0)
      assert.equal(first['offset'], '1')
      assert.match(String(first['time']), /^\d{4}-\d\d-\d\dT/)

      const base = `http://127.0.0.1:${worker.port}`
      const health = await fetch(`${base}${HEALTH_PATH}`)
      assert.equal(health.status, 200)
      assert.equal(await health.text(), 'Healthy')
      const metrics = await waitFor('lag gauge', async () => {
        const text = await (await fetch(`${base}/metrics`)).text()
        return /lagscale_consumer_partition_lag\{[^}]*partition="2"[^}]*\} 0/.test(text) && text
      })
      assert.match(metrics, /lagscale_consumer_records_processed_total\{[^}]*outcome="ok"[^}]*\} 30/)
      assert.match(metrics, /lagscale_consumer_processing_seconds_count\{[^}]*outcome="ok"[^}]*\} 30/)
      for (const p of [0, 1, 2]) {
        assert.match(metrics, new RegExp(`lagscale_consumer_assigned_partition\\{[^}]*partition="${p}"[^}]*\\} 1`))
      }
      assert.match(metrics, /lagscale_consumer_group_member\{[^}]*\} 1/)
    } finally {
      const report = await worker.stop('test over')
      assert.equal(report.abandoned, false)
    }
    assert.equal(worker.healthy(), false)
    assert.equal((await groupLag(group)).members, 0, 'the worker left the group')
  })

  test('poison values go to <topic>.DLT with headers and the worker keeps going', async () => {
    const topic = await freshTopic('cw-poison', 2)
    const group = uniqueName('cw-poison')
    await produce(topic, [
      [0, 'a', '1'],
      [0, 'b', 'abc'],
      [0, 'c', '2'],
      [1, 'd', '-1'],
      [1, 'e', '101'],
      [1, 'f', '3']
    ])
    const { logger, lines } = capturingLogger()
    const worker = createWorker({
      connection: connection(),
      topic,
      group,
      port: 0,
      host: '127.0.0.1',
      workUnitMs: 5,
      maxWorkUnits: 100,
      logger
    })
    await worker.start()
    try {
      await drained(group, 2)
      assert.deepEqual(
        lines
          .filter((l) => l.event === 'END')
          .map((l) => l['key'])
          .sort(),
        ['a', 'c', 'f']
      )
      const dead = await readAll(`${topic}.DLT`, 3)
      const byKey = new Map(dead.map((m) => [m.key.toString(), m]))
      assert.deepEqual([...byKey.keys()].sort(), ['b', 'd', 'e'])
      const b = byKey.get('b')!
      const h = (m: RawConsumedMessage, k: string): string | undefined => m.headers.get(k)?.toString()
      assert.equal(b.value.toString(), 'abc')
      assert.equal(b.partition, 0)
      assert.equal(h(b, DLT_HEADERS.sourceTopic), topic)
      assert.equal(h(b, DLT_HEADERS.sourcePartition), '0')
      assert.equal(h(b, DLT_HEADERS.sourceOffset), '1')
      assert.match(h(b, DLT_HEADERS.sourceTimestamp) ?? '', /^\d{13}$/)
      assert.equal(h(b, DLT_HEADERS.kind), 'poison')
      assert.equal(h(b, DLT_HEADERS.attempts), '1')
      assert.equal(h(b, DLT_HEADERS.group), group)
      assert.match(h(b, DLT_HEADERS.reason) ?? '', /"abc" is not a decimal integer 0\.\.100/)
      assert.match(h(byKey.get('e')!, DLT_HEADERS.reason) ?? '', /larger than the maximum of 100/)
      assert.equal(h(byKey.get('d')!, DLT_HEADERS.sourceOffset), '0')
      const metrics = await worker.metrics.registry.metrics()
      assert.match(metrics, /records_processed_total\{[^}]*outcome="dead_lettered"[^}]*\} 3/)
      assert.match(metrics, /records_processed_total\{[^}]*outcome="ok"[^}]*\} 3/)
    } finally {
      await worker.stop()
    }
  })

  test('a throwing --handler module is retried, then dead-lettered with the error; SIGTERM exits 0', async () => {
    const topic = await freshTopic('cw-throw', 1)
    const group = uniqueName('cw-throw')
    const dir = mkdtempSync(join(tmpdir(), 'lagscale-handler-'))
    const handlerPath = join(dir, 'handler.js')
    writeFileSync(
      handlerPath,
      `export default async function handle(record, { attempt, log }) {
  if (record.value === 'bad') throw new Error('cannot handle ' + record.value + ' (attempt ' + attempt + ')')
  log.info({ event: 'HANDLED', value: record.value, offset: String(record.offset) }, 'handled')
}
`
    )
    await produce(topic, [
      [0, 'x', 'good-1'],
      [0, 'y', 'bad'],
      [0, 'z', 'good-2']
    ])
    const [w] = await startWorkers(1, topic, group, ['--handler', handlerPath, '--max-attempts', '3'], {
      RETRY_BACKOFF_MS: '20'
    })
    try {
      await drained(group, 1)
      assert.deepEqual(
        w!.events('HANDLED').map((l) => l['value']),
        ['good-1', 'good-2']
      )
      assert.equal(w!.events('retry').length, 2, 'two retries before the third and last attempt')
      const [dead] = await readAll(`${topic}.DLT`, 1)
      assert.equal(dead!.value.toString(), 'bad')
      assert.equal(dead!.headers.get(DLT_HEADERS.kind)?.toString(), 'handler-error')
      assert.equal(dead!.headers.get(DLT_HEADERS.attempts)?.toString(), '3')
      assert.equal(dead!.headers.get(DLT_HEADERS.reason)?.toString(), 'cannot handle bad (attempt 3)')
    } finally {
      w!.child.kill('SIGTERM')
    }
    assert.equal(await w!.exited, 0, w!.stderr)
    assert.ok(w!.events('exit').length === 1, 'logs the time from the signal to exit')
  })

  test('--standby: ready without joining the group; joins on "start"; exits 0 on SIGTERM or when stdin closes', async () => {
    const topic = await freshTopic('standby', 2)
    const group = uniqueName('standby-group')
    const env = { WORK_UNIT_MS: '10', HEARTBEAT_INTERVAL_MS: '500', PORT: '0' }
    const args = ['--topic', topic, '--group', group, '--standby']
    const a = testWorker('a', args, env, { keepStdin: true })
    const b = testWorker('b', args, env, { keepStdin: true })
    try {
      await waitFor('both standing by', () => a.events('standby').length === 1 && b.events('standby').length === 1)
      const port = a.events('standby')[0]!['port'] as number
      assert.ok(port > 0, 'HTTP is up while standing by')
      const health = await fetch(`http://127.0.0.1:${port}${HEALTH_PATH}`)
      assert.equal(health.status, 503, 'a standby is not a healthy member')
      const admin = createAdmin(connection())
      try {
        assert.equal(await groupExists(admin, group), false, 'no standby joined the group')
      } finally {
        await admin.close()
      }
      await produce(topic, [
        [0, 'k', '0'],
        [1, 'k', '0']
      ])
      a.child.stdin?.write('start\n')
      await waitFor('a assigned both partitions and worked both records', () => {
        return a.lastAssignment()?.length === 2 && done(a.lines).length === 2
      })
      assert.equal(b.events('assigned').length, 0, 'b is still standing by')
      b.child.stdin?.end()
      assert.equal(await b.exited, 0, `b exits 0 when its stdin closes: ${b.stderr}`)
      assert.equal(b.events('assigned').length, 0, 'b never joined')
      a.child.kill('SIGTERM')
      assert.equal(await a.exited, 0, a.stderr)
    } finally {
      await stopAll([a, b])
    }
  })

  test('a missing topic: an error in one line by default; with --create-topic-partitions the first workers create it', async () => {
    const topic = uniqueName('created-by-worker')
    const group = uniqueName('g')
    const missing = testWorker('m', ['--topic', topic, '--group', group], { PORT: '0' })
    assert.equal(await missing.exited, 1, missing.stderr)
    assert.equal(missing.stderr.trim(), `lagscale: topic ${topic} does not exist`)
    // Two workers at once: one creates it, the other finds it made.
    const args = ['--topic', topic, '--group', group, '--create-topic-partitions', '3']
    const workers = [testWorker('a', args, { PORT: '0' }), testWorker('b', args, { PORT: '0' })]
    try {
      await waitFor('both started', () => workers.every((w) => w.events('started').length === 1), 30_000, {
        detail: () => workers.map((w) => `${w.name}: ${w.stderr.trim() || w.lines.at(-1)?.msg}`).join('; ')
      })
      const admin = createAdmin(connection())
      try {
        const [made] = await describeTopics(admin, [topic])
        assert.equal(made?.partitionCount, 3)
        const [dlt] = await describeTopics(admin, [`${topic}.DLT`])
        assert.equal(dlt?.partitionCount, 3, 'the dead-letter topic follows it')
      } finally {
        await admin.close()
      }
    } finally {
      await stopAll(workers)
    }
  })

  test('--standby: SIGTERM while standing by exits 0', async () => {
    const topic = await freshTopic('standby-term', 1)
    const w = testWorker(
      's',
      ['--topic', topic, '--group', uniqueName('g'), '--standby'],
      { PORT: '0' },
      {
        keepStdin: true
      }
    )
    try {
      await waitFor('standing by', () => w.events('standby').length === 1)
      w.child.kill('SIGTERM')
      assert.equal(await w.exited, 0, w.stderr)
      assert.equal(w.events('stopped').length, 1, 'it closed what it opened')
    } finally {
      await stopAll([w])
    }
  })

  test('3 worker processes, 6 partitions: every record processed exactly once, each worker gets partitions', async () => {
    const topic = await freshTopic('cw-three', 6)
    const group = uniqueName('cw-three')
    const workers = await startWorkers(3, topic, group)
    try {
      await waitFor('a balanced group', () => balanced(workers, 6), 60_000)
      const records: [number, string, string][] = []
      for (let i = 0; i < 120; i++) records.push([i % 6, `k${i}`, String(i % 2)])
      await produce(topic, records)
      await drained(group, 6)
      const all = workers.flatMap((w) => done(w.lines))
      assert.equal(all.length, 120, 'no record processed twice')
      assert.equal(new Set(all).size, 120, 'every record processed')
      for (const w of workers) assert.ok(done(w.lines).length > 0, `${w.name} did some work`)
    } finally {
      await stopAll(workers)
    }
    for (const w of workers) assert.equal(await w.exited, 0, w.stderr)
  })

  test('kill -9 mid-work loses nothing: the survivor redoes what was not committed', async () => {
    const topic = await freshTopic('cw-kill', 2)
    const group = uniqueName('cw-kill')
    const workers = await startWorkers(2, topic, group, [], { WORK_UNIT_MS: '100' })
    const [a, b] = workers as [WorkerProcess, WorkerProcess]
    try {
      await waitFor('a balanced group', () => balanced(workers, 2), 60_000)
      const records: [number, string, string][] = []
      for (let i = 0; i < 16; i++) records.push([i % 2, `k${i}`, '3'])
      await produce(topic, records)
      await waitFor('a has finished one record and started another', () => {
        const ends = a.events('END').length
        return ends >= 1 && a.events('START').length > ends
      })
      a.child.kill('SIGKILL')
      await a.exited
      const inFlight = a.events('START').at(-1)!
      await drained(group, 2, 60_000)
      const all = new Set([...done(a.lines), ...done(b.lines)])
      assert.equal(all.size, 16, 'every record processed at least once')
      assert.ok(
        done(b.lines).includes(`${inFlight['partition']}:${inFlight['offset']}`),
        'the record killed mid-work was redone by the survivor'
      )
    } finally {
      await stopAll(workers)
    }
  })

  test('SIGTERM mid-record: finishes and commits it, exits 0, and the partition moves at once', async (t) => {
    const topic = await freshTopic('cw-term', 2)
    const group = uniqueName('cw-term')
    const workers = await startWorkers(2, topic, group, ['--shutdown-grace-ms', '10000'], { WORK_UNIT_MS: '100' })
    const [a, b] = workers as [WorkerProcess, WorkerProcess]
    try {
      await waitFor('a balanced group', () => balanced(workers, 2), 60_000)
      const records: [number, string, string][] = []
      for (let i = 0; i < 12; i++) records.push([i % 2, `k${i}`, '5'])
      await produce(topic, records)
      await waitFor('a mid-record', () => a.events('START').length >= 2)
      const inFlight = a.events('START').at(-1)!
      const termAt = performance.now()
      a.child.kill('SIGTERM')
      const code = await a.exited
      const exitedAt = performance.now()
      assert.equal(code, 0, a.stderr)
      const takeover = await waitFor('b owns both partitions', () =>
        b.arrivals.find(
          (x) => x.at > termAt && x.line.event === 'assigned' && (x.line['partitions'] as number[]).length === 2
        )
      )
      const reassignMs = Math.round(takeover.at - termAt)
      t.diagnostic(
        `SIGTERM -> exit: ${Math.round(exitedAt - termAt)} ms (worker says ${a.events('exit')[0]?.['shutdownMs']} ms)`
      )
      t.diagnostic(`SIGTERM -> partition reassigned to the other worker: ${reassignMs} ms`)
      const key = `${inFlight['partition']}:${inFlight['offset']}`
      assert.ok(done(a.lines).includes(key), 'the record in flight at SIGTERM was finished')
      assert.equal(a.events('START').length, done(a.lines).length, 'nothing started after SIGTERM')
      // Well under the 6 s session timeout: the worker left the group instead of going silent.
      assert.ok(reassignMs < 5000 + 600, `reassigned in ${reassignMs} ms`)
      await drained(group, 2, 60_000)
      const all = [...done(a.lines), ...done(b.lines)]
      assert.equal(new Set(all).size, 12, 'every record processed')
      assert.ok(!done(b.lines).includes(key), 'the finished record was committed, not redone')
    } finally {
      await stopAll(workers)
    }
  })

  test('SIGTERM with a record longer than --shutdown-grace-ms: abandoned uncommitted, exit 0, redone by the other', async () => {
    const topic = await freshTopic('cw-grace', 2)
    const group = uniqueName('cw-grace')
    const workers = await startWorkers(2, topic, group, ['--shutdown-grace-ms', '300'], { WORK_UNIT_MS: '1000' })
    const [a, b] = workers as [WorkerProcess, WorkerProcess]
    try {
      await waitFor('a balanced group', () => balanced(workers, 2), 60_000)
      const mine = a.lastAssignment()![0]!
      await produce(topic, [[mine, 'long', '5']])
      await waitFor('a started the long record', () => a.events('START').length === 1)
      a.child.kill('SIGTERM')
      assert.equal(await a.exited, 0, a.stderr)
      assert.equal(a.events('END').length, 0)
      assert.equal(a.events('abandoned').length, 1)
      assert.ok(Number(a.events('exit')[0]?.['shutdownMs']) < 3000, 'did not wait for the 5 s record')
      await waitFor('b redid the abandoned record', () => b.events('END').find((l) => l['key'] === 'long'), 30_000)
      await waitFor('the redone record committed', async () => {
        const admin = createAdmin(connection())
        try {
          const row = (await describeGroup(admin, group)).partitions.find((p) => p.partition === mine)
          return row?.committedOffset === 1n
        } finally {
          await admin.close()
        }
      })
    } finally {
      await stopAll(workers)
    }
  })
})
