import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Admin, kPerformWithRetry, MultipleErrors, NetworkError, ProtocolError } from '@platformatic/kafka'
import { toUserError } from '../../src/kafka/errors.ts'
import { retriableProtocolError, retryDelayMs, retryRetriableErrors } from '../../src/kafka/retry-policy.ts'

/** An admin client that never connects: only its retry step is exercised. */
function client(deadlineMs: number): Admin {
  return retryRetriableErrors(
    new Admin({ clientId: 'retry-test', bootstrapBrokers: ['127.0.0.1:1'], retries: 2, retryDelay: 1 }),
    deadlineMs
  )
}

type Step = (attempt: number) => Error | undefined

/** Runs one operation through the client's retry step; each attempt fails with what `step` says. */
function perform(admin: Admin, step: Step): Promise<{ attempts: number; error?: Error }> {
  let attempts = 0
  return new Promise((resolve) => {
    admin[kPerformWithRetry]<string>(
      'test',
      (callback) => {
        const err = step(attempts++)
        if (err) callback(err, undefined as never)
        else callback(null, 'ok')
      },
      ((err: Error | null) => resolve({ attempts, ...(err ? { error: err } : {}) })) as never
    )
  })
}

describe('retry policy', () => {
  test('retriable broker errors are told apart from the rest', () => {
    assert.equal(
      retriableProtocolError(new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS')),
      'COORDINATOR_LOAD_IN_PROGRESS'
    )
    assert.equal(
      retriableProtocolError(new MultipleErrors('x', [new ProtocolError('NOT_LEADER_OR_FOLLOWER')])),
      'NOT_LEADER_OR_FOLLOWER'
    )
    // Kafka marks it retriable, but waiting only delays "the topic does not exist".
    assert.equal(retriableProtocolError(new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION')), undefined)
    assert.equal(retriableProtocolError(new ProtocolError('TOPIC_AUTHORIZATION_FAILED')), undefined)
    assert.equal(retriableProtocolError(new NetworkError('Connection closed')), undefined)
  })

  test('backoff doubles from 100 ms to a 1 s cap', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 9].map(retryDelayMs), [100, 200, 400, 800, 1000, 1000])
  })

  test('a coordinator still loading is retried past the client’s own 2 retries until it answers', async () => {
    const r = await perform(client(30_000), (n) =>
      n < 5 ? new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS') : undefined
    )
    assert.equal(r.error, undefined)
    assert.equal(r.attempts, 6)
  })

  test('a partition whose leader moved: every retry asks the cluster again who leads it', async () => {
    const admin = client(30_000)
    let cleared = 0
    admin.clearMetadata = () => {
      cleared++
    }
    const r = await perform(admin, (n) => (n < 3 ? new ProtocolError('NOT_LEADER_OR_FOLLOWER') : undefined))
    assert.equal(r.error, undefined)
    assert.equal(cleared, 3)
  })

  test('a retriable error that outlasts the deadline is reported', async () => {
    const started = Date.now()
    const r = await perform(client(300), () => new ProtocolError('LEADER_NOT_AVAILABLE'))
    assert.ok(r.error, 'the operation should fail')
    assert.ok(Date.now() - started >= 300, 'it retried until the deadline')
    assert.ok(r.attempts >= 3)
    assert.match(toUserError(r.error).message, /^LEADER_NOT_AVAILABLE \(still failing after 0 s of retries\)$/)
  })

  test('a cluster never reached keeps the quick retries: 3 attempts, then the error', async () => {
    const refused = new NetworkError('Connection to 127.0.0.1:1 failed.', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    })
    const r = await perform(client(30_000), () => refused)
    assert.equal(r.attempts, 3)
    assert.match(toUserError(r.error).message, /connection refused \(is the broker running\?\)/)
  })

  test('a non-retriable broker error is not retried', async () => {
    const r = await perform(client(30_000), () => new ProtocolError('TOPIC_AUTHORIZATION_FAILED'))
    assert.equal(r.attempts, 1)
  })
})

describe('errors after the cluster was reached', () => {
  const refused = new NetworkError('Connection to 127.0.0.1:9092 failed.', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' })
  })
  const closed = new NetworkError('Connection closed')

  test('a refused connection: the broker went away, not "is it running?"', () => {
    assert.equal(
      toUserError(refused, 'commit', { connected: true }).message,
      'commit: lost the connection to 127.0.0.1:9092 (broker down or restarting?)'
    )
    assert.equal(toUserError(refused).message, 'cannot connect to Kafka: connection refused (is the broker running?)')
  })

  test('a closed connection: no security.protocol hint once connected; the broker named from the bootstrap list', () => {
    assert.equal(
      toUserError(closed, undefined, { connected: true, brokers: ['10.0.0.1:9092'] }).message,
      'lost the connection to 10.0.0.1:9092 (broker down or restarting?)'
    )
    assert.equal(
      toUserError(closed, undefined, { connected: true, brokers: ['a:9092', 'b:9092'] }).message,
      'lost the connection to a broker of a:9092,b:9092 (broker down or restarting?)'
    )
    assert.match(toUserError(closed).message, /does security\.protocol match the listener\?/)
  })
})
