import assert from 'node:assert/strict'
import { test } from 'node:test'
import { collect, runCli, spawnCli } from '../support/cli.ts'
import { testEnv } from '../support/test-env.ts'

/**
 * The seed's CLI session (S7-S10) replayed: create MSKTutorialTopic with 1 partition,
 * a console consumer started first in another process (the seed's second machine),
 * type lines into the console producer, see them arrive, list topics, delete the topic.
 */
test('seed session: create MSKTutorialTopic, produce, consume --from-beginning elsewhere, list, delete', async () => {
  const bs = ['--bootstrap-server', testEnv().bootstrap]
  const topic = 'MSKTutorialTopic'

  const created = await runCli([
    'topics',
    'create',
    ...bs,
    '--replication-factor',
    '1',
    '--partitions',
    '1',
    '--topic',
    topic
  ])
  assert.equal(created.code, 0, created.stderr)
  assert.equal(created.stdout, `Created topic ${topic}.\n`)

  // S9: the consumer runs in another process and waits for records.
  const consumer = spawnCli([
    'consume',
    ...bs,
    '--topic',
    topic,
    '--from-beginning',
    '--max-messages',
    '3',
    '--timeout-ms',
    '60000'
  ])
  consumer.stdin?.end()
  const consumed = collect(consumer, 90_000)

  // S8: the seed used the old --broker-list flag; lagscale accepts it.
  const produced = await runCli(['produce', '--broker-list', testEnv().bootstrap, '--topic', topic], {
    input: 'Hello MSK\nこんにちは\nthird message\n'
  })
  assert.equal(produced.code, 0, produced.stderr)
  assert.match(produced.stderr, /Produced 3 record\(s\) to MSKTutorialTopic/)

  const result = await consumed
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stdout, 'Hello MSK\nこんにちは\nthird message\n')

  // A second consumer from the beginning sees the same three records again (S9).
  const again = await runCli(['consume', ...bs, '--topic', topic, '--from-beginning', '--timeout-ms', '3000'])
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout, 'Hello MSK\nこんにちは\nthird message\n')
  assert.match(again.stderr, /Processed a total of 3 messages/)

  // S10: list and delete (with --bootstrap-server, not the old --zookeeper).
  const listed = await runCli(['topics', 'list', ...bs])
  assert.ok(listed.stdout.split('\n').includes(topic))
  const deleted = await runCli(['topics', 'delete', ...bs, '--topic', topic])
  assert.equal(deleted.code, 0, deleted.stderr)
  const after = await runCli(['topics', 'list', ...bs])
  assert.ok(!after.stdout.split('\n').includes(topic))
})
