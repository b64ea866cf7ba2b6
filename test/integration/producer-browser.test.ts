/**
 * The "Send Message" page in a real browser (Debian's chromium, driven by playwright-core):
 * the seed's user types a number, clicks Submit, and the records reach a running consumer
 * worker. Both paths: with JavaScript (the answer appears under the form) and without
 * (the form post shows the plain answer).
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import pino from 'pino'
import type { Page } from 'playwright-core'
import { createWorker, type Worker } from '../../src/consumer/worker.ts'
import { type ConnectionConfig, resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { producerConfig } from '../../src/producer/config.ts'
import { type ProducerApp, startProducerApp } from '../../src/producer/server.ts'
import { type LaunchedChromium, launchChromium, screenshotPng } from '../support/browser.ts'
import { uniqueName } from '../support/cli.ts'
import { endOffsets, freshTopic, readTopicRecords } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'

const PARTITIONS = 2

type LogLine = Record<string, unknown> & { event?: string; msg?: string }

const connection = (): ConnectionConfig =>
  resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {}, clientId: 'producer-browser-test' })

/** JSON log lines as they arrive; `until` resolves on the line that makes a condition true (no polling). */
class LogBook {
  readonly lines: LogLine[] = []
  readonly #waiters = new Set<() => void>()

  push(line: LogLine): void {
    this.lines.push(line)
    for (const w of [...this.#waiters]) w()
  }

  events(event: string): LogLine[] {
    return this.lines.filter((l) => l.event === event)
  }

  until<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): boolean => {
        const value = check()
        if (value === undefined || value === false) return false
        this.#waiters.delete(waiter)
        clearTimeout(timer)
        resolve(value)
        return true
      }
      const waiter = (): void => void attempt()
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      this.#waiters.add(waiter)
      attempt()
    })
  }
}

function capturingLogger(book: LogBook): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) book.push(JSON.parse(l) as LogLine)
      done()
    }
  })
  return pino({ level: 'info' }, stream)
}

/** Log-end offset of each partition of `topic`. */
interface KeyedRecord {
  /** partition:offset */
  key: string
  value: string
}

/** The records between two snapshots of the log-end offsets, read back from the topic. */
async function recordsBetween(topic: string, before: bigint[], afterEnds: bigint[]): Promise<KeyedRecord[]> {
  return (await readTopicRecords(topic, afterEnds))
    .filter((x) => x.offset >= before[x.partition]! && x.offset < afterEnds[x.partition]!)
    .map((x) => ({ key: `${x.partition}:${x.offset}`, value: x.value }))
    .sort((a, b) => a.key.localeCompare(b.key))
}

const lineKey = (l: LogLine): string => `${l['partition']}:${l['offset']}`

describe('the Send Message page in chromium', () => {
  const book = new LogBook()
  let topic = ''
  let app: ProducerApp | undefined
  let worker: Worker | undefined
  let chromium: LaunchedChromium | undefined

  before(async () => {
    chromium = await launchChromium()
    topic = await freshTopic('browser', PARTITIONS)
    app = await startProducerApp(producerConfig({ connection: connection(), topic, port: 0, host: '127.0.0.1' }), {
      logger: pino({ level: 'silent' })
    })
    worker = createWorker({
      connection: connection(),
      topic,
      group: uniqueName('browser'),
      port: 0,
      host: '127.0.0.1',
      workUnitMs: 5,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      logger: capturingLogger(book)
    })
    await worker.start()
    // Records sent before the group settles would be consumed anyway (earliest); waiting
    // for the assignment keeps a rebalance from redoing any of them.
    await book.until('the worker owns both partitions', () =>
      book.events('assigned').some((l) => (l['partitions'] as number[] | undefined)?.length === PARTITIONS)
    )
  })

  after(async () => {
    await chromium?.close()
    await worker?.stop('test over')
    await app?.close()
  })

  /** Opens /msk-producer, types N into the field found by its label, clicks Submit. */
  async function submit(page: Page, n: string): Promise<{ status: number; resourceType: string; postData: string }> {
    const landed = await page.goto(`${app!.url}/msk-producer`)
    assert.equal(landed?.status(), 200)
    assert.equal(new URL(page.url()).pathname, '/msk-producer-index.html', 'redirected to the page')
    assert.equal(await page.title(), 'Send Message')
    const field = page.getByLabel('Number of messages', { exact: true })
    assert.equal(await field.getAttribute('name'), 'message')
    await field.pressSequentially(n)
    assert.equal(await field.inputValue(), n)
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/msk-producer-send'),
      page.getByRole('button', { name: 'Submit' }).click()
    ])
    const request = response.request()
    assert.equal(request.method(), 'POST')
    assert.match((await request.allHeaders())['content-type'] ?? '', /^application\/x-www-form-urlencoded/)
    return { status: response.status(), resourceType: request.resourceType(), postData: request.postData() ?? '' }
  }

  /** The 5 records that one submit added, on the topic, and the worker's START and END for each. */
  async function assertDelivered(before: bigint[], afterEnds: bigint[]): Promise<void> {
    const records = await recordsBetween(topic, before, afterEnds)
    assert.equal(records.length, 5, `5 new records: ${JSON.stringify(records)}`)
    for (const r of records) assert.match(r.value, /^(?:[0-9]|10)$/, `value ${r.value} is an integer 0..10`)
    const keys = records.map((r) => r.key)
    await book.until(`the worker's END for ${keys.join(', ')}`, () => {
      const ended = new Set(book.events('END').map(lineKey))
      return keys.every((k) => ended.has(k))
    })
    for (const r of records) {
      const starts = book.events('START').filter((l) => lineKey(l) === r.key)
      const ends = book.events('END').filter((l) => lineKey(l) === r.key)
      assert.equal(starts.length, 1, `one START for ${r.key}`)
      assert.equal(ends.length, 1, `one END for ${r.key}`)
      assert.equal(starts[0]!['value'], r.value, `the worker got the value of ${r.key}`)
      assert.ok(book.lines.indexOf(starts[0]!) < book.lines.indexOf(ends[0]!), `START before END for ${r.key}`)
    }
    assert.equal(
      book.events('END').length,
      afterEnds.reduce((a, b) => a + Number(b), 0),
      'nothing else was processed'
    )
  }

  test('with JavaScript: type 5, Submit, "Messages sent: 5" under the form; the worker does the 5 records', async (t) => {
    const context = await chromium!.browser.newContext()
    try {
      const page = await context.newPage()
      const before = await endOffsets(topic, PARTITIONS)
      const started = performance.now()
      const sent = await submit(page, '5')
      assert.deepEqual(sent, { status: 200, resourceType: 'fetch', postData: 'message=5' })
      const status = page.getByRole('status')
      await status.filter({ hasText: /^(?!Sending)./ }).waitFor({ timeout: 15_000 })
      assert.equal(await status.textContent(), 'Messages sent: 5')
      assert.equal(await status.getAttribute('class'), '', 'not shown as an error')
      assert.ok(await page.getByText('Messages sent: 5', { exact: true }).isVisible())
      assert.equal(new URL(page.url()).pathname, '/msk-producer-index.html', 'the page stayed; fetch sent the form')
      assert.ok(await page.getByRole('button', { name: 'Submit' }).isEnabled(), 'the button is enabled again')
      t.diagnostic(`page -> answer shown: ${Math.round(performance.now() - started)} ms`)

      const shot = await screenshotPng(page, 'send-message.png')
      t.diagnostic(`screenshot: ${shot.path} (${shot.bytes} bytes)`)

      // The 200 came after the brokers acknowledged all 5, so the log-end offsets are final now.
      const afterEnds = await endOffsets(topic, PARTITIONS)
      await assertDelivered(before, afterEnds)
      t.diagnostic(`submit -> worker finished all 5: ${Math.round(performance.now() - started)} ms`)
    } finally {
      await context.close()
    }
  })

  test('without JavaScript: the form post shows the plain answer; the worker does the 5 records', async () => {
    const context = await chromium!.browser.newContext({ javaScriptEnabled: false })
    try {
      const page = await context.newPage()
      const before = await endOffsets(topic, PARTITIONS)
      const sent = await submit(page, '5')
      assert.deepEqual(sent, { status: 200, resourceType: 'document', postData: 'message=5' })
      await page.waitForURL((u) => u.pathname === '/msk-producer-send')
      assert.equal((await page.locator('body').textContent())?.trim(), 'Messages sent: 5')
      assert.equal(await page.getByRole('status').count(), 0, 'the page with the form is gone')
      await assertDelivered(before, await endOffsets(topic, PARTITIONS))
    } finally {
      await context.close()
    }
  })
})
