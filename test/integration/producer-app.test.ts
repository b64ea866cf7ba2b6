import assert from 'node:assert/strict'
import { createConnection, type Socket } from 'node:net'
import { after, describe, test } from 'node:test'
import pino from 'pino'
import { freePort } from '../../src/broker/local-broker.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { type ProducerConfigInput, producerConfig } from '../../src/producer/config.ts'
import { producerSink, type RecordSink } from '../../src/producer/kafka-sink.ts'
import { type ProducerApp, startProducerApp } from '../../src/producer/server.ts'
import { collect, runCli, spawnCli } from '../support/cli.ts'
import { endOffsets, freshTopic, readTopicRecords, topicRecordCount } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'

const INVALID = 'Invalid message value. Only positive integers are allowed.'
const FORM = 'application/x-www-form-urlencoded'
const JSON_TYPE = 'application/json'
const silent = pino({ level: 'silent' })
const started: ProducerApp[] = []

after(async () => {
  await Promise.all(started.map((a) => a.close()))
})

async function startApp(
  overrides: Partial<ProducerConfigInput> = {},
  deps: { sink?: RecordSink } = {}
): Promise<ProducerApp> {
  const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
  const app = await startProducerApp(producerConfig({ connection, port: 0, host: '127.0.0.1', ...overrides }), {
    logger: silent,
    ...deps
  })
  started.push(app)
  return app
}

interface Answer {
  status: number
  type: string
  body: string
}

/** POST; without a content type fetch sends a string body as text/plain, and no body when `body` is undefined. */
async function post(url: string, body: string | undefined, contentType?: string): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (contentType !== undefined) headers['content-type'] = contentType
  const r = await fetch(url, { method: 'POST', headers, ...(body === undefined ? {} : { body }) })
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() }
}

async function get(url: string): Promise<Answer> {
  const r = await fetch(url, { redirect: 'manual' })
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() }
}

/** The topic's records, read back with `lagscale consume`. */
async function readTopic(topic: string, expected: number, timeoutMs = 20_000): Promise<string[]> {
  const args = ['consume', '--bootstrap-server', testEnv().bootstrap, '--topic', topic, '--from-beginning']
  const r = await runCli(
    expected > 0
      ? [...args, '--max-messages', String(expected), '--timeout-ms', String(timeoutMs)]
      : [...args, '--timeout-ms', '1500']
  )
  assert.equal(r.code, 0, r.stderr)
  return r.stdout === '' ? [] : r.stdout.trimEnd().split('\n')
}

function assertWorkValues(values: string[]): void {
  for (const v of values) assert.match(v, /^(?:[0-9]|10)$/, `value ${JSON.stringify(v)} is an integer 0..10`)
}

describe('producer app: the seed contract (S15-S17)', () => {
  test('health 200 Healthy, redirect, and the Send Message page', async () => {
    const topic = await freshTopic('producer-pages')
    const app = await startApp({ topic })
    const health = await get(`${app.url}/msk-producer-healthCheck`)
    assert.deepEqual([health.status, health.body], [200, 'Healthy'])
    assert.match(health.type, /^text\/plain/)

    const redirect = await fetch(`${app.url}/msk-producer`, { redirect: 'manual' })
    assert.equal(redirect.status, 302)
    assert.equal(redirect.headers.get('location'), '/msk-producer-index.html')

    const page = await get(`${app.url}/msk-producer-index.html`)
    assert.equal(page.status, 200)
    assert.match(page.type, /^text\/html/)
    assert.match(page.body, /<title>Send Message<\/title>/)
    assert.match(page.body, /<form[^>]*method="post"[^>]*action="\/msk-producer-send"/)
    assert.match(page.body, /<label for="message">/)
    assert.match(page.body, /<input id="message" name="message" type="text"/)
    assert.match(page.body, /<button type="submit">Submit<\/button>/)
    assert.match(page.body, /aria-live="polite"/)
    assert.equal((await get(`${app.url}/no-such-page`)).status, 404)
  })

  test('message=N sends N records of 0..10 (form and JSON, number or string), answered after the acks', async () => {
    const topic = await freshTopic('producer-send', 3)
    const app = await startApp({ topic })
    const form = await post(`${app.url}/msk-producer-send`, 'message=5', FORM)
    assert.deepEqual(form, { status: 200, type: 'text/plain; charset=utf-8', body: 'Messages sent: 5' })
    // Acknowledged means readable now: no waiting for the records to show up.
    assert.equal((await readTopic(topic, 5, 5000)).length, 5)

    assert.equal((await post(`${app.url}/msk-producer-send`, '{"message": 3}', JSON_TYPE)).body, 'Messages sent: 3')
    assert.equal(
      (await post(`${app.url}/msk-producer-send`, '{"message":"2"}', 'application/json; charset=utf-8')).body,
      'Messages sent: 2'
    )
    assert.equal((await post(`${app.url}/msk-producer-send`, 'message=007', FORM)).body, 'Messages sent: 7')
    const values = await readTopic(topic, 17)
    assert.equal(values.length, 17)
    assertWorkValues(values)
    assert.equal((await readTopic(topic, 0)).length, 17, 'no more than 17')
    const keys = await runCli([
      'consume',
      '--bootstrap-server',
      testEnv().bootstrap,
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '17',
      '--timeout-ms',
      '10000',
      '--property',
      'print.key=true'
    ])
    for (const line of keys.stdout.trimEnd().split('\n')) assert.match(line, /^null\t/, 'no key')
  })

  test('the 200 waits for the broker: a held acknowledgement holds the answer', async () => {
    const topic = await freshTopic('producer-ack')
    const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
    const gated = gatedSink(producerSink(connection))
    const app = await startApp({ topic }, { sink: gated.sink })
    let answered = false
    const answer = post(`${app.url}/msk-producer-send`, 'message=4', FORM).then((a) => {
      answered = true
      return a
    })
    await gated.sendStarted
    assert.equal((await readTopic(topic, 4, 5000)).length, 4, 'the broker has the records')
    assert.equal(answered, false, 'no answer before the acknowledgement reaches the app')
    gated.release()
    assert.equal((await answer).body, 'Messages sent: 4')
    await app.close()
    await gated.inner.close()
  })

  test('every bad value gets 400 and the exact sentence, and nothing is sent', async () => {
    const topic = await freshTopic('producer-bad')
    const app = await startApp({ topic })
    const url = `${app.url}/msk-producer-send`
    const cases: [string | undefined, string | undefined][] = [
      [undefined, undefined],
      [undefined, FORM],
      ['', FORM],
      ['message=', FORM],
      ['other=5', FORM],
      ['message=0', FORM],
      ['message=-1', FORM],
      ['message=%2B5', FORM],
      ['message=+5', FORM],
      ['message=1.5', FORM],
      ['message=1e3', FORM],
      ['message=abc', FORM],
      ['message=%205', FORM],
      ['message=5%0A', FORM],
      ['message=0x10', FORM],
      ['message=1&message=2', FORM],
      ['message[]=5', FORM],
      ['message=%EF%BC%95', FORM],
      ['', JSON_TYPE],
      ['not json', JSON_TYPE],
      ['{"message":0}', JSON_TYPE],
      ['{"message":-3}', JSON_TYPE],
      ['{"message":1.5}', JSON_TYPE],
      ['{"message":5.0}', JSON_TYPE],
      ['{"message":1e3}', JSON_TYPE],
      ['{"message":"abc"}', JSON_TYPE],
      ['{"message":"+5"}', JSON_TYPE],
      ['{"message":" 5"}', JSON_TYPE],
      ['{"message":""}', JSON_TYPE],
      ['{"message":null}', JSON_TYPE],
      ['{"message":true}', JSON_TYPE],
      ['{"message":[5]}', JSON_TYPE],
      ['{"message":{"n":5}}', JSON_TYPE],
      ['{"message":5,"message":6}', JSON_TYPE],
      ['{"message":5,"extra":1}', JSON_TYPE],
      ['[5]', JSON_TYPE],
      ['5', JSON_TYPE],
      ['{}', JSON_TYPE]
    ]
    for (const [body, type] of cases) {
      const r = await post(url, body, type)
      assert.deepEqual(
        r,
        { status: 400, type: 'text/plain; charset=utf-8', body: INVALID },
        `${type}: ${JSON.stringify(body)}`
      )
    }
    const big = await post(url, `message=5&pad=${'x'.repeat(2000)}`, FORM)
    assert.deepEqual([big.status, big.body], [413, 'Request body too large (at most 1024 bytes).'])
    const plain = await post(url, 'message=5', 'text/plain')
    assert.equal(plain.status, 415)
    assert.match(plain.body, /^Unsupported Content-Type/)
    assert.deepEqual(await readTopic(topic, 0), [], 'no record was written')
  })

  test('N above --max-messages-per-request gets 400 with its own sentence', async () => {
    const topic = await freshTopic('producer-cap')
    const app = await startApp({ topic, maxMessagesPerRequest: 10 })
    const tooMany = 'Message value too large. At most 10 messages per request are allowed.'
    for (const body of ['message=11', 'message=99999999999999999999999']) {
      assert.deepEqual(await post(`${app.url}/msk-producer-send`, body, FORM), {
        status: 400,
        type: 'text/plain; charset=utf-8',
        body: tooMany
      })
    }
    assert.equal((await post(`${app.url}/msk-producer-send`, '{"message":11}', JSON_TYPE)).body, tooMany)
    assert.equal((await post(`${app.url}/msk-producer-send`, 'message=10', FORM)).body, 'Messages sent: 10')
    assert.equal((await readTopic(topic, 10)).length, 10)
  })

  test('an unreachable cluster: health and send answer 503 within seconds', async () => {
    const connection = resolveConnectionConfig({ bootstrapServer: '127.0.0.1:1', env: {} })
    const app = await startProducerApp(producerConfig({ connection, port: 0, host: '127.0.0.1' }), { logger: silent })
    started.push(app)
    let t = Date.now()
    const health = await get(`${app.url}/msk-producer-healthCheck`)
    assert.equal(health.status, 503)
    assert.match(health.body, /^Unhealthy: cannot connect to Kafka: connection refused/)
    assert.ok(Date.now() - t < 5000, `health answered in ${Date.now() - t} ms`)
    t = Date.now()
    const send = await post(`${app.url}/msk-producer-send`, 'message=5', FORM)
    assert.equal(send.status, 503)
    assert.equal(
      send.body,
      'Could not send the messages: cannot connect to Kafka: connection refused (is the broker running?). 0 of 5 were acknowledged.'
    )
    assert.ok(Date.now() - t < 5000, `send answered in ${Date.now() - t} ms`)
    const api = await post(`${app.url}/api/messages`, '{"count":2}', JSON_TYPE)
    assert.equal(api.status, 503)
    assert.equal(JSON.parse(api.body).acknowledged, 0)
    assert.equal((await post(`${app.url}/msk-producer-send`, 'message=x', FORM)).status, 400, 'still 400 for bad input')
  })

  test('a cluster that never answers (held sends): 503 after the ack timeout, not a hung request', async () => {
    const topic = await freshTopic('producer-hang')
    const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
    const gated = gatedSink(producerSink(connection))
    const app = await startApp({ topic, ackTimeoutMs: 500 }, { sink: gated.sink })
    const t = Date.now()
    const r = await post(`${app.url}/msk-producer-send`, 'message=3', FORM)
    assert.equal(r.status, 503)
    assert.equal(
      r.body,
      'Could not send the messages: Kafka did not acknowledge the records within 500 ms. 0 of 3 were acknowledged.'
    )
    assert.ok(Date.now() - t < 3000)
    gated.release()
    await app.close()
    await gated.inner.close()
  })

  test('a topic that does not exist makes health 503', async () => {
    const app = await startApp({ topic: 'producer-no-such-topic' })
    const health = await get(`${app.url}/msk-producer-healthCheck`)
    assert.deepEqual([health.status, health.body], [503, 'Unhealthy: topic producer-no-such-topic does not exist'])
  })
})

describe('producer app: beyond the seed', () => {
  test('concurrent requests share one produce request; each answer has the offsets of its own records', async () => {
    const topic = await freshTopic('producer-coalesce', 3)
    const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
    const gated = gatedSink(producerSink(connection))
    const app = await startApp({ topic }, { sink: gated.sink })
    const url = `${app.url}/api/messages`
    const send = (values: string[]) => post(url, JSON.stringify({ values }), JSON_TYPE)
    // The first request's produce request is held in flight; 20 more arrive behind it.
    const first = send(['first-0'])
    await gated.sendStarted
    const rest = Array.from({ length: 20 }, (_, i) => send([`r${i}-0`, `r${i}-1`, `r${i}-2`, `r${i}-3`]))
    const metric = async (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await get(`${app.url}/metrics`)).body)?.[1])
    await waitFor(
      '20 sends waiting behind the first',
      async () => (await metric('lagscale_producer_sends_waiting')) === 20
    )
    gated.release()
    const answers = await Promise.all([first, ...rest])
    for (const a of answers) assert.equal(a.status, 200, a.body)
    assert.equal(await metric('lagscale_producer_produce_requests_total'), 2, 'the first alone, the 20 others in one')
    assert.equal(await metric('lagscale_producer_sends_waiting'), 0)

    // Each answer's offsets hold exactly its own records, in order, on the broker.
    const records = await readTopicRecords(topic, await endOffsets(topic, 3))
    assert.equal(records.length, 81)
    const at = new Map(records.map((r) => [`${r.partition}:${r.offset}`, r.value]))
    for (const [i, a] of answers.entries()) {
      const report = JSON.parse(a.body) as {
        partitions: { partition: number; count: number; firstOffset: number; lastOffset: number }[]
      }
      const mine: string[] = []
      for (const p of report.partitions) {
        assert.equal(p.lastOffset - p.firstOffset + 1, p.count, `request ${i}: contiguous in partition ${p.partition}`)
        for (let o = p.firstOffset; o <= p.lastOffset; o++) mine.push(at.get(`${p.partition}:${o}`)!)
      }
      const expected = i === 0 ? ['first-0'] : [0, 1, 2, 3].map((j) => `r${i - 1}-${j}`)
      assert.deepEqual(mine.sort(), expected.sort(), `request ${i} found its own records at its offsets`)
    }
    await app.close()
    await gated.inner.close()
  })

  test('POST /api/messages: counts and values, with partitions and offsets', async () => {
    const topic = await freshTopic('producer-api', 3)
    const app = await startApp({ topic, maxMessagesPerRequest: 100, maxApiValues: 5 })
    const url = `${app.url}/api/messages`
    const first = await post(url, '{"count": 6}', JSON_TYPE)
    assert.equal(first.status, 200, first.body)
    assert.match(first.type, /^application\/json/)
    const report = JSON.parse(first.body) as {
      topic: string
      count: number
      partitions: { partition: number; count: number; firstOffset: number; lastOffset: number }[]
    }
    assert.equal(report.topic, topic)
    assert.equal(report.count, 6)
    assert.deepEqual(
      report.partitions.map((p) => [p.partition, p.count, p.firstOffset, p.lastOffset]),
      [
        [0, 2, 0, 1],
        [1, 2, 0, 1],
        [2, 2, 0, 1]
      ]
    )

    const second = JSON.parse((await post(url, '{"values": ["alpha", "beta", "gamma"]}', JSON_TYPE)).body)
    assert.equal(second.count, 3)
    for (const p of second.partitions) assert.deepEqual([p.count, p.firstOffset, p.lastOffset], [1, 2, 2])
    const values = await readTopic(topic, 9)
    assert.deepEqual(values.filter((v) => !/^\d+$/.test(v)).sort(), ['alpha', 'beta', 'gamma'])
    assertWorkValues(values.filter((v) => /^\d+$/.test(v)))

    const bad: [string, string | undefined, number, RegExp][] = [
      ['{"count": 0}', JSON_TYPE, 400, /^expected/],
      ['{"count": 1.5}', JSON_TYPE, 400, /^expected/],
      ['{"count": "5"}', JSON_TYPE, 400, /^expected/],
      ['{"values": []}', JSON_TYPE, 400, /^expected/],
      ['{"values": [1]}', JSON_TYPE, 400, /^expected/],
      ['{"count": 1, "values": ["a"]}', JSON_TYPE, 400, /^expected/],
      ['{"count": 101}', JSON_TYPE, 400, /^count must be at most 100$/],
      ['{"values": ["a","b","c","d","e","f"]}', JSON_TYPE, 400, /^values may hold at most 5 strings$/],
      ['{nope', JSON_TYPE, 400, /not valid JSON/],
      ['count=5', FORM, 415, /application\/json/],
      ['{"count": 1}', undefined, 415, /application\/json/]
    ]
    for (const [body, type, status, error] of bad) {
      const r = await post(url, body, type)
      assert.equal(r.status, status, `${body}: ${r.body}`)
      assert.match(JSON.parse(r.body).error, error)
    }
  })

  test('GET /metrics: requests by route and status, records sent, send latency, process metrics', async () => {
    const topic = await freshTopic('producer-metrics')
    const app = await startApp({ topic })
    await post(`${app.url}/msk-producer-send`, 'message=4', FORM)
    await post(`${app.url}/msk-producer-send`, 'message=x', FORM)
    const r = await get(`${app.url}/metrics`)
    assert.equal(r.status, 200)
    assert.match(r.type, /^text\/plain; version=0\.0\.4/)
    assert.match(
      r.body,
      /^lagscale_producer_http_requests_total\{method="POST",route="\/msk-producer-send",status="200"\} 1$/m
    )
    assert.match(
      r.body,
      /^lagscale_producer_http_requests_total\{method="POST",route="\/msk-producer-send",status="400"\} 1$/m
    )
    assert.match(r.body, new RegExp(`^lagscale_producer_records_sent_total\\{topic="${topic}"\\} 4$`, 'm'))
    assert.match(r.body, /^lagscale_producer_send_duration_seconds_count\{outcome="ok"\} 1$/m)
    assert.match(r.body, /^process_cpu_user_seconds_total \d/m)
    assert.match(r.body, /^nodejs_eventloop_lag_seconds /m)
  })

  test('fuzz: 200 random bodies and content types never get a 500 and never bring the app down', async () => {
    const topic = await freshTopic('producer-fuzz')
    const app = await startApp({ topic, maxMessagesPerRequest: 20 })
    const random = mulberry32(20240611)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
    const types = [FORM, JSON_TYPE, 'text/plain', 'application/octet-stream', 'multipart/form-data', '', undefined]
    const atoms = ['5', '0', '-1', '1e3', '1.5', '20', '21', '007', ' ', '\u0000', '%', '%zz', '"', '{', '}', '[', ']']
    const bodies = (): string => {
      switch (pick(['form', 'json', 'noise', 'big'])) {
        case 'form':
          return Array.from(
            { length: 1 + Math.floor(random() * 3) },
            () => `${pick(['message', 'm', ''])}=${pick(atoms)}`
          ).join('&')
        case 'json':
          return `{"message":${pick([...atoms, '"3"', 'null', '[]', '{}'])}${pick(['', ',"x":1', ',"message":2'])}}`
        case 'big':
          return 'message=1&'.repeat(Math.floor(random() * 300))
        default:
          return Array.from({ length: Math.floor(random() * 40) }, () =>
            String.fromCharCode(Math.floor(random() * 0x3000))
          ).join('')
      }
    }
    const seen = new Map<number, number>()
    let sent = 0
    for (let i = 0; i < 200; i++) {
      const body = bodies()
      const type = pick(types)
      const path = pick(['/msk-producer-send', '/msk-producer-send', '/api/messages'])
      const r = await post(`${app.url}${path}`, body, type)
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1)
      assert.ok(
        [200, 400, 413, 415].includes(r.status),
        `${path} ${type} ${JSON.stringify(body)} -> ${r.status} ${r.body}`
      )
      if (r.status === 200 && path === '/msk-producer-send') sent += Number(/^Messages sent: (\d+)$/.exec(r.body)?.[1])
      if (r.status === 200 && path === '/api/messages') sent += JSON.parse(r.body).count
    }
    assert.ok((seen.get(400) ?? 0) > 20 && (seen.get(200) ?? 0) > 0, `a mix of answers: ${[...seen]}`)
    assert.equal((await get(`${app.url}/msk-producer-healthCheck`)).body, 'Healthy', 'still up')
    assert.equal((await readTopic(topic, sent)).length, sent, 'exactly the records the 200s announced')
  })

  test('close(): stops accepting, lets an in-flight send finish, then closes the producer', async () => {
    const topic = await freshTopic('producer-close')
    const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
    const gated = gatedSink(producerSink(connection))
    const events: string[] = []
    const closeInner = gated.sink.close.bind(gated.sink)
    gated.sink.close = async () => {
      events.push('producer closed')
      await closeInner()
    }
    const app = await startApp({ topic }, { sink: gated.sink })
    const answer = post(`${app.url}/msk-producer-send`, 'message=3', FORM).then((a) => {
      events.push('answered')
      return a
    })
    await gated.sendStarted
    const closed = app.close().then(() => events.push('closed'))
    await assert.rejects(fetch(`${app.url}/msk-producer-healthCheck`), 'no new connections')
    events.push('released')
    gated.release()
    assert.equal((await answer).body, 'Messages sent: 3')
    await closed
    await gated.inner.close()
    assert.deepEqual(
      [...events].sort(),
      ['answered', 'closed', 'released'],
      'the app does not close a producer it was given'
    )
    assert.equal(events[0], 'released', 'close() waited for the in-flight send')
    assert.equal((await readTopic(topic, 3)).length, 3)
  })
  test('close() does not wait for clients that left mid-request', async () => {
    const topic = await freshTopic('producer-left')
    const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
    const gated = gatedSink(producerSink(connection))
    const app = await startApp({ topic, shutdownTimeoutMs: 20_000 }, { sink: gated.sink })
    const { port } = new URL(app.url)
    const rawRequest = (text: string) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = createConnection({ host: '127.0.0.1', port: Number(port) }, () => {
          socket.write(text)
          resolve(socket)
        })
        socket.on('error', reject)
      })
    // One client leaves while its send is held; another leaves halfway through its body.
    const held = await rawRequest(
      `POST /msk-producer-send HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: 9\r\n\r\nmessage=2`
    )
    await gated.sendStarted
    const partial = await rawRequest(
      `POST /msk-producer-send HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: 100\r\n\r\nmessage=`
    )
    held.destroy()
    partial.destroy()
    const started = performance.now()
    await app.close()
    const ms = performance.now() - started
    gated.release()
    await gated.inner.close()
    // Bounded by shutdownTimeoutMs (20 s) when a left request was still counted as in flight.
    assert.ok(ms < 10_000, `close() took ${Math.round(ms)} ms`)
  })
})

describe('lagscale producer (CLI)', () => {
  test('serves, and on SIGTERM finishes an in-flight 100000-record send (long enough to still be in flight under load) before exiting 0', async () => {
    const topic = await freshTopic('producer-cli', 2)
    const port = await freePort()
    const child = spawnCli(['producer', '--bootstrap-server', testEnv().bootstrap, '--topic', topic], {
      PORT: String(port),
      LOG_LEVEL: 'info'
    })
    child.stdin?.end()
    const result = collect(child, 60_000)
    const lines: string[] = []
    let buffered = ''
    const waiters: { re: RegExp; resolve: () => void }[] = []
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString()
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      for (const line of parts) {
        lines.push(line)
        for (const w of waiters.filter((w) => w.re.test(line))) w.resolve()
      }
    })
    const logged = (re: RegExp): Promise<void> =>
      lines.some((l) => re.test(l)) ? Promise.resolve() : new Promise((resolve) => waiters.push({ re, resolve }))

    await logged(/"msg":"producer listening on http:\/\/127\.0\.0\.1:\d+"/)
    const url = `http://127.0.0.1:${port}`
    assert.equal((await get(`${url}/msk-producer-healthCheck`)).body, 'Healthy')
    const answer = post(`${url}/msk-producer-send`, 'message=100000', FORM)
    await logged(/"count":100000,"msg":"sending records"/)
    child.kill('SIGTERM')
    const r = await answer
    assert.deepEqual([r.status, r.body], [200, 'Messages sent: 100000'])
    const done = await result
    assert.equal(done.code, 0, done.stderr)
    const order = ['"msg":"signal received"', '"msg":"records acknowledged"', '"msg":"producer stopped"'].map((m) =>
      lines.findIndex((l) => l.includes(m))
    )
    assert.ok(
      order.every((i) => i >= 0),
      `all logged: ${order}`
    )
    // On failure, show the shutdown as logged (the order is the point of this test).
    const shown = lines.filter((l) => !l.includes('"msg":"incoming request"')).join('\n')
    assert.ok(order[0]! < order[1]!, `the signal came while the send was in flight:\n${shown}`)
    // By the logged time, not the line's position: the two lines come from different loggers of
    // the process, and under load a line can reach stdout a moment after a later one (seen once).
    const at = (i: number) => Date.parse(String((JSON.parse(lines[i]!) as { time: string }).time))
    assert.ok(at(order[2]!) >= at(order[1]!), `the producer stops after the send is acknowledged:\n${shown}`)
    for (const line of lines) JSON.parse(line) // structured logs: one JSON object a line
    // Counted from the log-end offsets: every acknowledged record is on the topic.
    assert.equal(await topicRecordCount(topic), 100_000)
  })

  test('bad flags exit 2 with one line', async () => {
    const r = await runCli(['producer', '--port', 'abc'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr.trim(), 'lagscale: --port (env PORT) must be a whole number; got abc')
    const cap = await runCli(['producer', '--max-messages-per-request', '0'])
    assert.equal(cap.code, 2)
    assert.match(cap.stderr, /^lagscale: --max-messages-per-request \(env MAX_MESSAGES_PER_REQUEST\): /)
  })
})

/** Wraps a sink so its sends wait until release() is called. */
function gatedSink(inner: RecordSink): {
  sink: RecordSink
  inner: RecordSink
  sendStarted: Promise<void>
  release: () => void
} {
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let started!: () => void
  const sendStarted = new Promise<void>((resolve) => {
    started = resolve
  })
  const sink: RecordSink = {
    partitionCount: (topic) => inner.partitionCount(topic),
    probe: (topic) => inner.probe(topic),
    send: async (messages) => {
      started()
      const offsets = await inner.send(messages)
      await gate
      return offsets
    },
    close: async () => {}
  }
  return { sink, inner, sendStarted, release }
}

/** A small seeded PRNG, so a failing fuzz case can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
