import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { resolveProducerConfig } from '../../src/producer/config.ts'
import {
  INVALID_MESSAGE,
  messageFromForm,
  messageFromJson,
  parseMessageCount,
  tooManyMessages
} from '../../src/producer/validate.ts'

describe('parseMessageCount: N is a positive integer in decimal digits', () => {
  const valid: [string, number][] = [
    ['1', 1],
    ['5', 5],
    ['007', 7],
    ['100000', 100_000]
  ]
  for (const [input, count] of valid) {
    test(`${JSON.stringify(input)} -> ${count}`, () => {
      assert.deepEqual(parseMessageCount(input, 100_000), { ok: true, count })
    })
  }

  const invalid: unknown[] = [
    undefined,
    null,
    '',
    '0',
    '000',
    '-1',
    '+5',
    '1.5',
    '5.0',
    '1e3',
    '1E3',
    '0x10',
    'abc',
    '5abc',
    ' 5',
    '5 ',
    '5\n',
    '\t5',
    '1_000',
    '1,000',
    '５',
    '٣',
    'Infinity',
    'NaN',
    5,
    [5],
    ['5'],
    { n: 5 },
    true
  ]
  for (const input of invalid) {
    test(`${JSON.stringify(input) ?? String(input)} is invalid`, () => {
      assert.deepEqual(parseMessageCount(input, 100_000), { ok: false, reason: 'invalid', error: INVALID_MESSAGE })
    })
  }

  for (const input of ['100001', '99999999999999999999999999', '9007199254740993']) {
    test(`${input} is above the cap`, () => {
      const r = parseMessageCount(input, 100_000)
      assert.deepEqual(r, { ok: false, reason: 'too-large', error: tooManyMessages(100_000) })
    })
  }

  test('the exact messages', () => {
    assert.equal(INVALID_MESSAGE, 'Invalid message value. Only positive integers are allowed.')
    assert.equal(tooManyMessages(10), 'Message value too large. At most 10 messages per request are allowed.')
  })
})

describe('messageFromForm', () => {
  const cases: [string, string | undefined][] = [
    ['message=5', '5'],
    ['message=5&submit=Submit', '5'],
    ['message=%205', ' 5'],
    ['message=+5', ' 5'],
    ['message=%2B5', '+5'],
    ['message=', ''],
    ['', undefined],
    ['msg=5', undefined],
    ['message=1&message=2', undefined],
    ['message=5&message=5', undefined]
  ]
  for (const [body, expected] of cases) {
    test(`${JSON.stringify(body)} -> ${JSON.stringify(expected)}`, () => assert.equal(messageFromForm(body), expected))
  }
})

describe('messageFromJson', () => {
  const cases: [string, string | undefined][] = [
    ['{"message":5}', '5'],
    [' { "message" : "12" } \n', '12'],
    ['{"message":1e3}', '1e3'],
    ['{"message":1.5}', '1.5'],
    ['{"message":-1}', '-1'],
    ['{"message":"\\u0035"}', undefined],
    ['{"message":5,"message":6}', undefined],
    ['{"message":5,"other":1}', undefined],
    ['{"message":[5]}', undefined],
    ['{"message":{"n":5}}', undefined],
    ['{"message":null}', 'null'],
    ['[5]', undefined],
    ['5', undefined],
    ['', undefined],
    ['{"message":\u00a05}', undefined],
    ['{"Message":5}', undefined]
  ]
  for (const [body, expected] of cases) {
    test(`${JSON.stringify(body)} -> ${JSON.stringify(expected)}`, () => assert.equal(messageFromJson(body), expected))
  }

  test('whatever it extracts still has to pass parseMessageCount', () => {
    for (const body of ['{"message":1e3}', '{"message":1.5}', '{"message":-1}', '{"message":null}']) {
      assert.equal(parseMessageCount(messageFromJson(body), 100).ok, false, body)
    }
  })
})

describe('resolveProducerConfig', () => {
  const connection = resolveConnectionConfig({ bootstrapServer: '127.0.0.1:9092', env: {} })

  test('defaults: port 8082, topic Topic_from_java, cap 100000', () => {
    const c = resolveProducerConfig({}, {}, connection)
    assert.equal(c.port, 8082)
    assert.equal(c.topic, 'Topic_from_java')
    assert.equal(c.maxMessagesPerRequest, 100_000)
  })

  test('env overrides the defaults, flags override env', () => {
    const env = { PORT: '9000', TOPIC: 'from-env', MAX_MESSAGES_PER_REQUEST: '50' }
    const fromEnv = resolveProducerConfig({}, env, connection)
    assert.deepEqual([fromEnv.port, fromEnv.topic, fromEnv.maxMessagesPerRequest], [9000, 'from-env', 50])
    const fromFlags = resolveProducerConfig(
      { port: '9001', topic: 'flag', maxMessagesPerRequest: '7' },
      env,
      connection
    )
    assert.deepEqual([fromFlags.port, fromFlags.topic, fromFlags.maxMessagesPerRequest], [9001, 'flag', 7])
  })

  test('bad values are usage errors (exit code 2) naming the flag and the variable', () => {
    const bad: [Parameters<typeof resolveProducerConfig>[0], NodeJS.ProcessEnv, RegExp][] = [
      [{ port: 'abc' }, {}, /^--port \(env PORT\) must be a whole number; got abc$/],
      [{}, { PORT: '70000' }, /^--port \(env PORT\): /],
      [{ topic: 'bad topic' }, {}, /^--topic \(env TOPIC\): /],
      [{ maxMessagesPerRequest: '0' }, {}, /^--max-messages-per-request \(env MAX_MESSAGES_PER_REQUEST\): /],
      [{}, { MAX_MESSAGES_PER_REQUEST: '-5' }, /must be a whole number/]
    ]
    for (const [flags, env, message] of bad) {
      assert.throws(
        () => resolveProducerConfig(flags, env, connection),
        (err: Error & { exitCode?: number }) => message.test(err.message) && err.exitCode === 2,
        JSON.stringify({ flags, env })
      )
    }
  })
})
