/**
 * In-partition parallel processing on the real broker: one partition worked by 8 slots,
 * per-key order, kill -9 with finished records above the watermark, and a rebalance.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { doneMetadata, parseBusyMarker } from '../../src/consumer/handoff.ts'
import { decodeFinished } from '../../src/consumer/offset-codec.ts'
import type { WorkerRecord } from '../../src/consumer/record.ts'
import { createWorker, type Worker } from '../../src/consumer/worker.ts'
import { createAdmin, createProducer } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { createLogger } from '../../src/log.ts'
import { spawnCli, uniqueName } from '../support/cli.ts'
import { freshTopic } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'

const connection = () => resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
const quiet = createLogger({ name: 'parallel-test', level: 'warn' })

const workers: Worker[] = []
after(async () => {
  await Promise.allSettled(workers.map((w) => w.stop('test over')))
})

/** Sends records (value = work in ms, optional key) to one partition each, in order. */
async function send(topic: string, records: { partition: number; key?: string; value: number }[]): Promise<void> {
  const producer = createProducer(connection())
  try {
    await producer.send({
      messages: records.map((r) => ({
        topic,
        partition: r.partition,
        ...(r.key ? { key: Buffer.from(r.key) } : {}),
        value: Buffer.from(String(r.value))
      }))
    })
  } finally {
    await producer.close()
  }
}

interface Span {
  worker: string
  key: string | null
  partition: number
  offset: bigint
  start: number
  end?: number
}

/** A handler that sleeps `value` ms and records when each record ran, on which worker. */
function recordingHandler(name: string, spans: Span[]) {
  return async (record: WorkerRecord, { signal }: { signal: AbortSignal }) => {
    const span: Span = {
      worker: name,
      key: record.key,
      partition: record.partition,
      offset: record.offset,
      start: performance.now()
    }
    spans.push(span)
    await sleep(Number(record.value), undefined, { signal })
    span.end = performance.now()
  }
}

async function startWorker(options: {
  name: string
  topic: string
  group: string
  spans: Span[]
  concurrency: number
  ordering: 'partition' | 'key' | 'unordered'
}): Promise<Worker> {
  const worker = createWorker({
    connection: connection(),
    topic: options.topic,
    group: options.group,
    port: 0,
    host: '127.0.0.1',
    concurrency: options.concurrency,
    ordering: options.ordering,
    sessionTimeoutMs: 6000,
    logger: quiet,
    handle: recordingHandler(options.name, options.spans)
  })
  workers.push(worker)
  await worker.start()
  return worker
}

const ended = (spans: Span[]) => spans.filter((s) => s.end !== undefined)
const keyOf = (s: { partition: number; offset: bigint }) => `${s.partition}:${s.offset}`

/** Most spans running at one instant. */
function maxOverlap(spans: Span[]): number {
  const events = ended(spans).flatMap((s) => [
    [s.start, 1],
    [s.end!, -1]
  ])
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!)
  let now = 0
  let max = 0
  for (const [, d] of events) {
    now += d!
    max = Math.max(max, now)
  }
  return max
}

async function committed(group: string, topic: string, partition: number) {
  const admin = createAdmin(connection())
  try {
    const [g] = await admin.listConsumerGroupOffsets({ groups: [group] })
    const p = g?.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partitionIndex === partition)
    return p ? { offset: p.committedOffset, metadata: p.metadata ?? null } : undefined
  } finally {
    await admin.close()
  }
}

describe('parallel processing within a partition', () => {
  test('1 partition, 200 keyless records, --concurrency 8 --ordering unordered: ~1/8 of the work time, each once', async (t) => {
    const topic = await freshTopic('par-unordered', 1)
    let seed = 5
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    const records = Array.from({ length: 200 }, () => ({ partition: 0, value: 10 + Math.floor(rand() * 60) }))
    const totalWork = records.reduce((a, r) => a + r.value, 0)
    await send(topic, records)
    const spans: Span[] = []
    const group = uniqueName('par-unordered')
    await startWorker({ name: 'w', topic, group, spans, concurrency: 8, ordering: 'unordered' })
    await waitFor('200 records done', () => ended(spans).length >= 200, 60_000, {
      detail: () => `${ended(spans).length}/200`
    })
    await waitFor('committed to the end', async () => (await committed(group, topic, 0))?.offset === 200n, 20_000)
    const first = Math.min(...spans.map((s) => s.start))
    const last = Math.max(...ended(spans).map((s) => s.end!))
    const drainMs = last - first
    const ideal = totalWork / 8
    const counts = new Map<string, number>()
    for (const s of ended(spans)) counts.set(keyOf(s), (counts.get(keyOf(s)) ?? 0) + 1)
    assert.equal(counts.size, 200, 'every record processed')
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'none twice'
    )
    assert.equal(maxOverlap(spans), 8, 'up to 8 at once, never more')
    const ratio = ideal / drainMs
    t.diagnostic(
      `work ${totalWork} ms; ideal with 8 slots ${Math.round(ideal)} ms; measured ${Math.round(drainMs)} ms; ratio ${ratio.toFixed(2)}`
    )
    assert.ok(ratio > 0.5, `close to work / 8: ratio ${ratio.toFixed(2)}`)
  })

  test('--ordering key: each key in offset order, never two of a key at once, different keys overlap', async () => {
    const topic = await freshTopic('par-key', 1)
    const records = Array.from({ length: 120 }, (_, i) => ({
      partition: 0,
      key: `k${i % 4}`,
      value: 5 + ((i * 7) % 20)
    }))
    await send(topic, records)
    const spans: Span[] = []
    await startWorker({
      name: 'w',
      topic,
      group: uniqueName('par-key'),
      spans,
      concurrency: 8,
      ordering: 'key'
    })
    await waitFor('120 records done', () => ended(spans).length >= 120, 60_000)
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const mine = ended(spans)
        .filter((s) => s.key === key)
        .sort((a, b) => a.start - b.start)
      assert.equal(mine.length, 30)
      for (let i = 1; i < mine.length; i++) {
        assert.ok(mine[i]!.offset > mine[i - 1]!.offset, `${key} in offset order`)
        assert.ok(mine[i]!.start >= mine[i - 1]!.end!, `${key}: one at a time`)
      }
    }
    const overlap = maxOverlap(spans)
    assert.ok(overlap > 1 && overlap <= 4, `different keys ran at once (up to 4 keys): ${overlap}`)
  })

  test('kill -9 mid-run, restart: nothing lost, records finished above the watermark are not redone', async (t) => {
    const topic = await freshTopic('par-kill', 1)
    const group = uniqueName('par-kill')
    // Values are work units of 20 ms: a mix of long (10 = 200 ms) and short (0-1) records.
    const values = Array.from({ length: 120 }, (_, i) => (i % 9 === 0 ? 10 : i % 2))
    await send(
      topic,
      values.map((value) => ({ partition: 0, value }))
    )
    const args = [
      'consumer',
      '--bootstrap-server',
      testEnv().bootstrap,
      '--topic',
      topic,
      '--group',
      group,
      '--port',
      '0',
      '--work-unit-ms',
      '20',
      '--concurrency',
      '8',
      '--ordering',
      'unordered',
      '--session-timeout-ms',
      '6000'
    ]
    const run = (lines: Record<string, unknown>[]) => {
      const child = spawnCli(args)
      let buf = ''
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString()
        let nl = buf.indexOf('\n')
        while (nl >= 0) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>)
          nl = buf.indexOf('\n')
        }
      })
      return { child, exited: new Promise((resolve) => child.once('close', resolve)) }
    }
    const first: Record<string, unknown>[] = []
    const a = run(first)
    const ends = (lines: Record<string, unknown>[]) =>
      lines.filter((l) => l['event'] === 'END').map((l) => String(l['offset']))
    const starts = (lines: Record<string, unknown>[]) =>
      lines.filter((l) => l['event'] === 'START').map((l) => String(l['offset']))
    // Mid-run, with a long record holding the watermark while later ones finish.
    await waitFor('40 records done', () => ends(first).length >= 40, 30_000)
    const c = await waitFor(
      'a commit with records finished above the watermark',
      async () => {
        const now = await committed(group, topic, 0)
        if (!now) return undefined
        const marker = parseBusyMarker(now.metadata)
        const done = doneMetadata({ ...now, ...(marker ? { marker } : {}) })
        const finished = decodeFinished(done, now.offset)
        return finished.length > 0 && { ...now, finished }
      },
      20_000,
      { everyMs: 20 }
    )
    a.child.kill('SIGKILL')
    await a.exited
    const committedAtKill = await committed(group, topic, 0)
    const marker = committedAtKill ? parseBusyMarker(committedAtKill.metadata) : undefined
    const finishedAbove = committedAtKill
      ? decodeFinished(
          doneMetadata({ ...committedAtKill, ...(marker ? { marker } : {}) }),
          committedAtKill.offset
        ).flatMap((r) => Array.from({ length: Number(r.end - r.start) }, (_, i) => String(r.start + BigInt(i))))
      : []
    assert.ok(c.finished.length > 0)

    const second: Record<string, unknown>[] = []
    const b = run(second)
    try {
      await waitFor(
        'every record done',
        () => {
          const all = new Set([...ends(first), ...ends(second)])
          return all.size === values.length
        },
        60_000,
        { detail: () => `${new Set([...ends(first), ...ends(second)]).size}/${values.length}` }
      )
      const redone = starts(second).filter((o) => finishedAbove.includes(o))
      assert.deepEqual(redone, [], 'records the commit listed as finished above the watermark were not run again')
      const twice = ends(second).filter((o) => ends(first).includes(o))
      assert.ok(twice.length <= 8, `duplicates at most the in-flight count: ${twice.length}`)
      t.diagnostic(
        `killed with committed offset ${committedAtKill?.offset} and ${finishedAbove.length} finished above it; ` +
          `after restart: ${starts(second).length} started, ${twice.length} finished twice`
      )
    } finally {
      b.child.kill('SIGTERM')
      await b.exited
    }
  })

  test('a second worker joins mid-run: nothing lost, no record on two workers at once', async (t) => {
    const topic = await freshTopic('par-rebalance', 2)
    // About 9 s of work for 4 slots: the second worker joins while most of it is left.
    const records = Array.from({ length: 240 }, (_, i) => ({ partition: i % 2, value: 100 + ((i * 13) % 100) }))
    await send(topic, records)
    const spans: Span[] = []
    const group = uniqueName('par-rebalance')
    await startWorker({ name: 'a', topic, group, spans, concurrency: 4, ordering: 'unordered' })
    await waitFor('20 records done', () => ended(spans).length >= 20, 30_000)
    const b = await startWorker({ name: 'b', topic, group, spans, concurrency: 4, ordering: 'unordered' })
    await waitFor('b has a partition', () => b.assignment.length === 1, 30_000)
    await waitFor('every record done', () => new Set(ended(spans).map(keyOf)).size === 240, 60_000, {
      detail: () => `${new Set(ended(spans).map(keyOf)).size}/240`
    })
    assert.ok(
      spans.some((s) => s.worker === 'b'),
      'b worked too'
    )
    const byRecord = new Map<string, Span[]>()
    for (const s of spans) byRecord.set(keyOf(s), [...(byRecord.get(keyOf(s)) ?? []), s])
    let twice = 0
    for (const [k, ss] of byRecord) {
      if (ss.length < 2) continue
      twice++
      for (let i = 0; i < ss.length; i++) {
        for (let j = i + 1; j < ss.length; j++) {
          const x = ss[i]!
          const y = ss[j]!
          const overlap = x.start < (y.end ?? Number.POSITIVE_INFINITY) && y.start < (x.end ?? Number.POSITIVE_INFINITY)
          assert.ok(!(overlap && x.worker !== y.worker), `${k} ran on ${x.worker} and ${y.worker} at once`)
        }
      }
    }
    t.diagnostic(`records run more than once: ${twice}`)
  })
})
