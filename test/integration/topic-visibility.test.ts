import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ensureDeadLetterTopic } from '../../src/consumer/dead-letter.ts'
import { createAdmin } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { createTopic, describeTopics } from '../../src/kafka/topics.ts'
import { uniqueName } from '../support/cli.ts'
import { testEnv } from '../support/test-env.ts'

/**
 * Regression: CreateTopics returns before the broker's metadata cache lists the topic,
 * so "create, then use at once" used to fail now and then ("topic X does not exist"),
 * e.g. a worker creating its dead-letter topic (1 in 40; 21 in 40 right after the
 * source topic itself was created). createTopic now returns once the topic is visible.
 */
test('a topic is usable as soon as createTopic returns, also 4 at a time', async () => {
  const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
  const admin = createAdmin(connection)
  const failures: string[] = []
  try {
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const topic = uniqueName('visible')
          try {
            await createTopic(admin, { topic, partitions: 4, replicationFactor: 1 })
            const [described] = await describeTopics(admin, [topic])
            assert.equal(described?.partitionCount, 4)
            assert.equal(await ensureDeadLetterTopic(connection, topic, `${topic}.DLT`), 4)
          } catch (err) {
            failures.push(`${topic}: ${(err as Error).message}`)
          }
        })
      )
    }
  } finally {
    await admin.close()
  }
  assert.deepEqual(failures, [])
})
