import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { createLagMonitor, type LagMonitor } from '../../src/autoscaler/monitor.ts'
import { createAdmin, createProducer } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { runCli, uniqueName } from '../support/cli.ts'
import { freshTopic } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'

const connection = () => resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })

/** Sends `count` keyless records to one partition with the given create time. */
async function sendTo(topic: string, partition: number, count: number, timestamp: number): Promise<void> {
  const producer = createProducer(connection())
  try {
    await producer.send({
      messages: Array.from({ length: count }, (_, i) => ({
        topic,
        partition,
        value: Buffer.from(String(i % 10)),
        timestamp: BigInt(timestamp)
      }))
    })
  } finally {
    await producer.close()
  }
}

async function commit(group: string, topic: string, offsets: [partition: number, offset: number][]): Promise<void> {
  const admin = createAdmin(connection())
  try {
    await admin.alterConsumerGroupOffsets({
      groupId: group,
      topics: [
        { name: topic, partitionOffsets: offsets.map(([partition, offset]) => ({ partition, offset: BigInt(offset) })) }
      ]
    })
  } finally {
    await admin.close()
  }
}

describe('lag monitor on the real broker', () => {
  const monitors: LagMonitor[] = []
  const monitor = (group: string, topics: string[], resetPolicy: 'earliest' | 'latest' = 'earliest') => {
    const m = createLagMonitor(connection(), { group, topics, resetPolicy, timeoutMs: 10_000, timeLag: true })
    monitors.push(m)
    return m
  }
  after(async () => {
    await Promise.all(monitors.map((m) => m.close()))
  })

  let topic: string
  before(async () => {
    topic = await freshTopic('monitor', 3)
    const minuteAgo = Date.now() - 60_000
    await sendTo(topic, 0, 10, minuteAgo)
    await sendTo(topic, 1, 4, minuteAgo + 30_000)
  })

  test('a group that does not exist yet: lag from the reset policy, time lag from record timestamps', async () => {
    const group = uniqueName('monitor-none')
    const o = await monitor(group, [topic]).observe()
    assert.equal(o.stale, false, o.error)
    assert.equal(o.groupState, 'Dead')
    assert.equal(o.members.length, 0)
    assert.deepEqual(
      o.partitions.map((p) => [p.partition, p.logEndOffset, p.lag, p.lagFrom, p.committedOffset]),
      [
        [0, 10, 10, 'earliest', undefined],
        [1, 4, 4, 'earliest', undefined],
        [2, 0, 0, 'earliest', undefined]
      ]
    )
    assert.equal(o.sumOffsetLag, 14)
    assert.equal(o.maxOffsetLag, 10)
    const [p0, p1, p2] = o.partitions
    // Records created 60 s and 30 s before the test began.
    assert.ok(p0!.timeLagMs >= 60_000 && p0!.timeLagMs < 90_000, `time lag of partition 0: ${p0!.timeLagMs}`)
    assert.ok(p1!.timeLagMs >= 30_000 && p1!.timeLagMs < 60_000, `time lag of partition 1: ${p1!.timeLagMs}`)
    assert.equal(p2!.timeLagMs, 0)
    assert.equal(o.maxTimeLagMs, p0!.timeLagMs)

    const latest = await monitor(group, [topic], 'latest').observe()
    assert.equal(latest.sumOffsetLag, 0, 'with auto.offset.reset=latest a new group has nothing to catch up')
    assert.ok(latest.partitions.every((p) => p.lagFrom === 'latest'))
  })

  test('committed offsets: lag from the commit, consume rate between looks, topics discovered from the group', async () => {
    const group = uniqueName('monitor-committed')
    await commit(group, topic, [
      [0, 4],
      [1, 4]
    ])
    const m = monitor(group, [])
    const first = await m.observe()
    assert.deepEqual(first.topics, [topic], 'the topic the group committed on')
    assert.deepEqual(
      first.partitions.map((p) => [p.partition, p.committedOffset, p.lag, p.lagFrom]),
      [
        [0, 4, 6, 'committed'],
        [1, 4, 0, 'committed'],
        [2, undefined, 0, 'earliest']
      ]
    )
    // The oldest unconsumed record of partition 0 is offset 4, created a minute ago.
    assert.ok(first.partitions[0]!.timeLagMs >= 60_000)
    assert.equal(first.partitions[1]!.timeLagMs, 0)

    await commit(group, topic, [[0, 9]])
    const second = await m.observe()
    const p0 = second.partitions[0]!
    assert.equal(p0.lag, 1)
    assert.ok(p0.consumeRate !== undefined && p0.consumeRate > 0, `consume rate ${p0.consumeRate}`)
    const expected = 5 / ((second.at - first.at) / 1000)
    assert.ok(
      Math.abs(p0.consumeRate - expected) < 1e-9,
      `5 records over the interval: ${p0.consumeRate} vs ${expected}`
    )
    assert.equal(second.partitions[1]!.consumeRate, 0)
  })

  test('partitions added to the topic show up in the next observation', async () => {
    const grown = await freshTopic('monitor-grow', 1)
    const m = monitor(uniqueName('monitor-grow'), [grown])
    assert.equal((await m.observe()).partitions.length, 1)
    const r = await runCli([
      'topics',
      'alter',
      '--bootstrap-server',
      testEnv().bootstrap,
      '--topic',
      grown,
      '--partitions',
      '4'
    ])
    assert.equal(r.code, 0, r.stderr)
    const o = await m.observe()
    assert.deepEqual(
      o.partitions.map((p) => p.partition),
      [0, 1, 2, 3]
    )
  })

  test('an unreachable cluster gives a stale observation with the reason, not an exception or a hang', async () => {
    // A port that accepts nothing: a server we open and close again.
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    await new Promise((resolve) => server.close(resolve))
    const m = createLagMonitor(resolveConnectionConfig({ bootstrapServer: `127.0.0.1:${port}`, env: {} }), {
      group: 'g',
      topics: ['t'],
      resetPolicy: 'earliest',
      timeoutMs: 3000,
      timeLag: true
    })
    monitors.push(m)
    const started = performance.now()
    const o = await m.observe()
    const ms = performance.now() - started
    assert.equal(o.stale, true)
    assert.ok(o.error && o.error.length > 0, 'says why')
    assert.equal(o.partitions.length, 0)
    assert.ok(ms < 10_000, `answered within the bound: ${Math.round(ms)} ms`)
  })
})
