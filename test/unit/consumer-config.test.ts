import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseWorkerSettings, resolveWorkerSettings } from '../../src/consumer/config.ts'
import { UserError } from '../../src/errors.ts'

test('defaults are the seed names: Topic_from_java, group_id, port 8081, 1000 ms per unit', () => {
  const s = resolveWorkerSettings({}, {})
  assert.equal(s.topic, 'Topic_from_java')
  assert.equal(s.group, 'group_id')
  assert.equal(s.port, 8081)
  assert.equal(s.workUnitMs, 1000)
  assert.equal(s.dltTopic, 'Topic_from_java.DLT')
  assert.equal(s.maxAttempts, 3)
})

test('flags win over the environment, which wins over defaults; empty env counts as unset', () => {
  const env = { TOPIC: 'orders', GROUP_ID: 'g-env', PORT: '9000', WORK_UNIT_MS: '20', DLT_TOPIC: '' }
  const s = resolveWorkerSettings({ group: 'g-flag' }, env)
  assert.equal(s.topic, 'orders')
  assert.equal(s.group, 'g-flag')
  assert.equal(s.port, 9000)
  assert.equal(s.workUnitMs, 20)
  assert.equal(s.dltTopic, 'orders.DLT')
  assert.equal(resolveWorkerSettings({}, { PORT: '' }).port, 8081)
})

test('bad values are usage errors (exit 2) naming the flag and the env variable', () => {
  const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
    [{ port: 'abc' }, {}, /^--port \(env PORT\): must be a number; got "abc"$/],
    [{}, { PORT: '70000' }, /^--port \(env PORT\): must be at most 65535/],
    [{}, { WORK_UNIT_MS: '-1' }, /^--work-unit-ms \(env WORK_UNIT_MS\): must be at least 0/],
    [{ maxAttempts: '0' }, {}, /^--max-attempts .*must be at least 1/],
    [{ shutdownGraceMs: '1.5' }, {}, /must be an integer/],
    [{ topic: 'a b' }, {}, /^--topic \(env TOPIC\): use only letters/],
    [{ group: '  ' }, {}, /^--group/],
    [{ topic: 't', dltTopic: 't' }, {}, /^--dlt-topic .*must differ from the topic/],
    [{ heartbeatIntervalMs: '20000' }, {}, /^--heartbeat-interval-ms .*less than the session timeout/],
    [{ logLevel: 'loud' }, {}, /^--log-level/]
  ]
  for (const [flags, env, message] of cases) {
    assert.throws(
      () => resolveWorkerSettings(flags, env),
      (err: unknown) => err instanceof UserError && err.exitCode === 2 && message.test(err.message),
      JSON.stringify({ flags, env })
    )
  }
})

test('the programmatic API takes numbers and validates the same way', () => {
  assert.equal(parseWorkerSettings({ port: 0, workUnitMs: 5 }).port, 0)
  assert.throws(() => parseWorkerSettings({ port: -1 }), UserError)
})
