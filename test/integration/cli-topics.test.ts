import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { runCli, uniqueName } from '../support/cli.ts'
import { testEnv } from '../support/test-env.ts'

const bs = (): string[] => ['--bootstrap-server', testEnv().bootstrap]

describe('lagscale topics (kafka-topics)', () => {
  test('create, list, describe, alter and delete a topic', async () => {
    const topic = uniqueName('topics-lifecycle')
    const created = await runCli([
      'topics',
      'create',
      ...bs(),
      '--topic',
      topic,
      '--partitions',
      '3',
      '--replication-factor',
      '1',
      '--config',
      'retention.ms=3600000'
    ])
    assert.equal(created.code, 0, created.stderr)
    assert.equal(created.stdout.trim(), `Created topic ${topic}.`)

    const listed = await runCli(['topics', 'list', ...bs()])
    assert.equal(listed.code, 0, listed.stderr)
    assert.ok(listed.stdout.split('\n').includes(topic))
    assert.ok(!listed.stdout.includes('__consumer_offsets'), 'internal topics are hidden by default')

    const described = await runCli(['topics', 'describe', ...bs(), '--topic', topic, '--output', 'json'])
    assert.equal(described.code, 0, described.stderr)
    const [d] = JSON.parse(described.stdout)
    assert.equal(d.topic, topic)
    assert.equal(d.partitionCount, 3)
    assert.equal(d.replicationFactor, 1)
    assert.deepEqual(d.configs, { 'retention.ms': '3600000' })
    assert.deepEqual(
      d.partitions.map((p: { partition: number; leader: number; isr: number[] }) => [p.partition, p.leader, p.isr]),
      [
        [0, 1, [1]],
        [1, 1, [1]],
        [2, 1, [1]]
      ]
    )

    const text = await runCli(['topics', 'describe', ...bs(), '--topic', topic])
    assert.match(
      text.stdout,
      new RegExp(
        `^Topic: ${topic}\\tTopicId: [A-Za-z0-9_-]{22}\\tPartitionCount: 3\\tReplicationFactor: 1\\tConfigs: retention.ms=3600000$`,
        'm'
      )
    )
    assert.match(text.stdout, new RegExp(`^\\tTopic: ${topic}\\tPartition: 2\\tLeader: 1\\tReplicas: 1\\tIsr: 1$`, 'm'))

    const altered = await runCli(['topics', 'alter', ...bs(), '--topic', topic, '--partitions', '5'])
    assert.equal(altered.code, 0, altered.stderr)
    const after = JSON.parse(
      (await runCli(['topics', 'describe', ...bs(), '--topic', topic, '--output', 'json'])).stdout
    )
    assert.equal(after[0].partitionCount, 5)

    const shrink = await runCli(['topics', 'alter', ...bs(), '--topic', topic, '--partitions', '2'])
    assert.equal(shrink.code, 2)
    assert.match(shrink.stderr, /has 5 partition\(s\); --partitions must be greater/)

    const deleted = await runCli(['topics', 'delete', ...bs(), '--topic', topic])
    assert.equal(deleted.code, 0, deleted.stderr)
    const gone = await runCli(['topics', 'list', ...bs(), '--output', 'json'])
    assert.ok(!JSON.parse(gone.stdout).includes(topic))
  })

  test('creating an existing topic fails clearly; --if-not-exists succeeds', async () => {
    const topic = uniqueName('topics-dup')
    assert.equal((await runCli(['topics', 'create', ...bs(), '--topic', topic])).code, 0)
    const again = await runCli(['topics', 'create', ...bs(), '--topic', topic])
    assert.equal(again.code, 1)
    assert.equal(
      again.stderr.trim(),
      `lagscale: create topic ${topic}: the topic already exists (Topic '${topic}' already exists.)`
    )
    const idempotent = await runCli(['topics', 'create', ...bs(), '--topic', topic, '--if-not-exists'])
    assert.equal(idempotent.code, 0, idempotent.stderr)
  })

  const badInput: [string, string[], RegExp, number][] = [
    ['missing topic', ['topics', 'create'], /--topic is required/, 2],
    ['empty topic', ['topics', 'create', '--topic', ''], /--topic is required and must not be empty/, 2],
    ['illegal topic name', ['topics', 'create', '--topic', 'a b'], /topic name "a b" is invalid/, 2],
    [
      'zero partitions',
      ['topics', 'create', '--topic', 'x', '--partitions', '0'],
      /--partitions must be a positive integer; got 0/,
      2
    ],
    [
      'text partitions',
      ['topics', 'create', '--topic', 'x', '--partitions', 'many'],
      /--partitions must be a positive integer/,
      2
    ],
    [
      'replication above broker count',
      ['topics', 'create', '--topic', 'rf3', '--replication-factor', '3'],
      /invalid replication factor/,
      1
    ],
    [
      'unknown topic describe',
      ['topics', 'describe', '--topic', 'no-such-topic'],
      /topic no-such-topic does not exist/,
      1
    ],
    ['unknown topic delete', ['topics', 'delete', '--topic', 'no-such-topic'], /the topic does not exist/, 1],
    ['bad --config', ['topics', 'create', '--topic', 'x', '--config', 'nope'], /--config expects key=value/, 2],
    ['unknown flag', ['topics', 'list', '--frobnicate'], /unknown option '--frobnicate'/, 2]
  ]
  for (const [name, args, message, exitCode] of badInput) {
    test(`bad input: ${name} -> one line on stderr, exit ${exitCode}`, async () => {
      const r = await runCli([...args, ...bs()])
      assert.equal(r.code, exitCode, r.stderr)
      assert.match(r.stderr, message)
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
      assert.equal(r.stdout, '')
    })
  }

  test('unreachable broker: a clear error within seconds, not a hang', async () => {
    const started = Date.now()
    const r = await runCli(['topics', 'list', '--bootstrap-server', '127.0.0.1:1'], { timeoutMs: 20_000 })
    assert.equal(r.code, 1)
    assert.equal(
      r.stderr.trim(),
      'lagscale: list topics: cannot connect to Kafka: connection refused (is the broker running?)'
    )
    assert.ok(Date.now() - started < 15_000)
  })
})
