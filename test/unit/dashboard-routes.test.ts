/**
 * The dashboard's routes against a fake DashboardSource: JSON, history, the event stream,
 * /metrics, the page and its files. The dashboard only presents snapshots, so hand-built
 * ones are enough.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { get, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import { Counter, Registry } from 'prom-client'
import type { AutoscalerSnapshot } from '../../src/autoscaler/types.ts'
import { type DashboardOptions, type DashboardSource, registerDashboard } from '../../src/dashboard/index.ts'
import { dashboardSnapshot, FakeDashboardSource } from '../support/dashboard.ts'
import { observationOf, partitionObservation } from '../support/observations.ts'

const T0 = Date.parse('2026-03-01T12:00:00Z')

/** Lags on partitions 0..n-1 of orders, all owned by worker-1. */
const snapshot = (at: number, lags: number[]): AutoscalerSnapshot =>
  dashboardSnapshot(
    observationOf(
      at,
      lags.map((lag, i) => partitionObservation(i, lag, { topic: 'orders', timeLagMs: lag * 10, owner: 'worker-1' })),
      { group: 'orders-workers' }
    )
  )

const apps: FastifyInstance[] = []
after(async () => {
  await Promise.all(apps.map((a) => a.close()))
})

function dashboard(source: DashboardSource, options?: DashboardOptions): FastifyInstance {
  const app = Fastify({ logger: false })
  registerDashboard(app, source, options)
  apps.push(app)
  return app
}

const json = (body: string): unknown => JSON.parse(body)

describe('dashboard JSON', () => {
  test('/api/snapshot: 503 with a JSON message before the first snapshot, then the newest one', async () => {
    const source = new FakeDashboardSource()
    const app = dashboard(source)
    const before = await app.inject('/api/snapshot')
    assert.equal(before.statusCode, 503)
    assert.match(before.headers['content-type'] ?? '', /^application\/json/)
    assert.match((json(before.body) as { message: string }).message, /no snapshot yet/i)

    source.push(snapshot(T0, [0, 5]))
    const s = snapshot(T0 + 5000, [3, 40])
    source.push(s)
    const now = await app.inject('/api/snapshot')
    assert.equal(now.statusCode, 200)
    assert.match(now.headers['content-type'] ?? '', /^application\/json/)
    assert.equal(now.headers['cache-control'], 'no-store')
    assert.deepEqual(json(now.body), s)
  })

  test('/api/history keeps the last historyLimit snapshots, oldest first; limit= and since= select', async () => {
    const source = new FakeDashboardSource()
    source.push(snapshot(T0, [1])) // before registration: the first history entry
    const app = dashboard(source, { historyLimit: 3 })
    for (let i = 1; i < 6; i++) source.push(snapshot(T0 + i * 1000, [i]))
    source.push(source.snapshot()!) // the same one again is kept once

    const all = json((await app.inject('/api/history')).body) as { limit: number; snapshots: AutoscalerSnapshot[] }
    assert.equal(all.limit, 3)
    assert.deepEqual(
      all.snapshots.map((s) => s.at),
      [T0 + 3000, T0 + 4000, T0 + 5000]
    )
    const last2 = json((await app.inject('/api/history?limit=2')).body) as { snapshots: AutoscalerSnapshot[] }
    assert.deepEqual(
      last2.snapshots.map((s) => s.at),
      [T0 + 4000, T0 + 5000]
    )
    const since = json((await app.inject(`/api/history?since=${T0 + 4000}`)).body) as {
      snapshots: AutoscalerSnapshot[]
    }
    assert.deepEqual(
      since.snapshots.map((s) => s.at),
      [T0 + 5000]
    )
    for (const bad of ['limit=-1', 'limit=two', 'since=', 'since=yesterday']) {
      const r = await app.inject(`/api/history?${bad}`)
      assert.equal(r.statusCode, 400, bad)
      assert.ok((json(r.body) as { message?: string }).message, bad)
    }
  })

  test('the default history keeps 720 snapshots', async () => {
    const source = new FakeDashboardSource()
    const app = dashboard(source)
    for (let i = 0; i < 800; i++) source.push(snapshot(T0 + i * 5000, [i]))
    const h = json((await app.inject('/api/history')).body) as { limit: number; snapshots: AutoscalerSnapshot[] }
    assert.equal(h.limit, 720)
    assert.equal(h.snapshots.length, 720)
    assert.equal(h.snapshots[0]!.at, T0 + 80 * 5000)
  })

  test('a bad historyLimit is refused at registration', () => {
    assert.throws(() => registerDashboard(Fastify(), new FakeDashboardSource(), { historyLimit: 0 }), /historyLimit/)
  })
})

describe('dashboard /metrics', () => {
  test('absent without a registry', async () => {
    const app = dashboard(new FakeDashboardSource())
    assert.equal((await app.inject('/metrics')).statusCode, 404)
  })

  test('Prometheus text from the registry given', async () => {
    const registry = new Registry()
    new Counter({ name: 'lagscale_test_scale_outs_total', help: 'test counter', registers: [registry] }).inc(3)
    const app = dashboard(new FakeDashboardSource(), { registry })
    const r = await app.inject('/metrics')
    assert.equal(r.statusCode, 200)
    assert.match(r.headers['content-type'] ?? '', /^text\/plain/)
    assert.match(r.body, /^lagscale_test_scale_outs_total 3$/m)
  })
})

describe('dashboard page and files', () => {
  test('the page: title, stylesheets and scripts, all served from this app', async () => {
    const app = dashboard(new FakeDashboardSource())
    const page = await app.inject('/')
    assert.equal(page.statusCode, 200)
    assert.match(page.headers['content-type'] ?? '', /^text\/html; charset=utf-8/)
    assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/)
    assert.match(page.body, /<title>lagscale dashboard<\/title>/)
    const styles = [...page.body.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1])
    const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1])
    assert.deepEqual(styles, ['assets/uPlot.min.css', 'assets/dashboard.css'])
    assert.deepEqual(scripts, ['assets/uPlot.iife.min.js', 'assets/dashboard.js'])
    assert.doesNotMatch(page.body, /https?:\/\/(?!www\.w3\.org)/, 'nothing from the network')
    for (const href of styles) {
      const r = await app.inject(`/${href}`)
      assert.equal(r.statusCode, 200, href)
      assert.match(r.headers['content-type'] ?? '', /^text\/css/, href)
    }
    for (const src of scripts) {
      const r = await app.inject(`/${src}`)
      assert.equal(r.statusCode, 200, src)
      assert.match(r.headers['content-type'] ?? '', /^text\/javascript/, src)
    }
  })

  test('uPlot comes from node_modules, as npm installed it, with the right content types', async () => {
    const app = dashboard(new FakeDashboardSource())
    for (const [name, type] of [
      ['uPlot.iife.min.js', /^text\/javascript; charset=utf-8$/],
      ['uPlot.min.css', /^text\/css; charset=utf-8$/]
    ] as const) {
      const r = await app.inject(`/assets/${name}`)
      assert.equal(r.statusCode, 200)
      assert.match(r.headers['content-type'] ?? '', type)
      assert.equal(r.headers['x-content-type-options'], 'nosniff')
      const installed = readFileSync(fileURLToPath(import.meta.resolve(`uplot/dist/${name}`)))
      assert.ok(r.rawPayload.equals(installed), `${name} is the installed file`)
    }
    assert.match((await app.inject('/assets/uPlot.iife.min.js')).body, /uPlot/)
  })

  test('only the listed files: anything else under assets/ is 404', async () => {
    const app = dashboard(new FakeDashboardSource())
    for (const path of ['/assets/index.html', '/assets/..%2F..%2F..%2Fpackage.json', '/assets/uPlot.cjs.js']) {
      assert.equal((await app.inject(path)).statusCode, 404, path)
    }
  })

  test('under a prefix: /prefix redirects to /prefix/, whose relative links resolve', async () => {
    const source = new FakeDashboardSource()
    source.push(snapshot(T0, [1, 2]))
    const app = Fastify({ logger: false })
    apps.push(app)
    await app.register(async (scope) => void registerDashboard(scope, source), { prefix: '/autoscaler' })
    const bare = await app.inject('/autoscaler?x=1')
    assert.equal(bare.statusCode, 302)
    assert.equal(bare.headers['location'], '/autoscaler/?x=1')
    assert.equal((await app.inject('/autoscaler/')).statusCode, 200)
    for (const path of ['assets/dashboard.js', 'assets/uPlot.min.css', 'api/snapshot', 'api/history']) {
      assert.equal((await app.inject(`/autoscaler/${path}`)).statusCode, 200, path)
    }
    assert.equal((await app.inject('/')).statusCode, 404, 'nothing at the root')
  })

  test('ETag: an unchanged file answers 304', async () => {
    const app = dashboard(new FakeDashboardSource())
    const first = await app.inject('/assets/dashboard.js')
    const etag = first.headers['etag'] as string
    assert.ok(etag)
    assert.equal(first.headers['cache-control'], 'no-cache')
    const again = await app.inject({ url: '/assets/dashboard.js', headers: { 'if-none-match': etag } })
    assert.equal(again.statusCode, 304)
    assert.equal(again.body, '')
  })
})

/** An open GET /api/events, read as it arrives. */
class EventStream {
  text = ''
  readonly #waiters = new Set<() => void>()
  readonly response: IncomingMessage

  constructor(response: IncomingMessage) {
    this.response = response
    response.setEncoding('utf8')
    response.on('data', (chunk: string) => {
      this.text += chunk
      for (const w of [...this.#waiters]) w()
    })
    response.on('end', () => {
      for (const w of [...this.#waiters]) w()
    })
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      get(url, { headers }, (res) => resolve(new EventStream(res))).on('error', reject)
    })
  }

  /** The snapshots received so far (the `data:` of each `event: snapshot`). */
  snapshots(): AutoscalerSnapshot[] {
    return this.text
      .split('\n\n')
      .filter((block) => block.startsWith('event: snapshot\n'))
      .map(
        (block) =>
          JSON.parse(
            block
              .split('\n')
              .find((l) => l.startsWith('data: '))!
              .slice(6)
          ) as AutoscalerSnapshot
      )
  }

  until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        if (!check()) return
        this.#waiters.delete(waiter)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.text.slice(-500))}`))
      }, timeoutMs)
      this.#waiters.add(waiter)
      waiter()
    })
  }
}

/** Resolves when `check` holds, polling the (synchronous) state the server changes on its own. */
async function eventually(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('dashboard /api/events (Server-Sent Events)', () => {
  async function listening(
    source: FakeDashboardSource,
    options?: DashboardOptions
  ): Promise<{ app: FastifyInstance; url: string }> {
    const app = Fastify({ logger: false })
    registerDashboard(app, source, options)
    await app.listen({ port: 0, host: '127.0.0.1' })
    apps.push(app)
    return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
  }

  test('headers for no buffering, the current snapshot first, then each new one; unsubscribes on disconnect', async () => {
    const source = new FakeDashboardSource()
    source.push(snapshot(T0, [0, 0]))
    const { url } = await listening(source)
    assert.equal(source.listeners.size, 1, 'the history subscribes')

    const stream = await EventStream.open(`${url}/api/events`)
    assert.equal(stream.response.statusCode, 200)
    assert.equal(stream.response.headers['content-type'], 'text/event-stream; charset=utf-8')
    assert.equal(stream.response.headers['cache-control'], 'no-cache, no-transform')
    assert.equal(stream.response.headers['x-accel-buffering'], 'no')
    assert.equal(stream.response.headers['content-length'], undefined)
    await stream.until('the current snapshot', () => stream.snapshots().length === 1)
    assert.match(stream.text, /^retry: \d+\n\n/)
    assert.equal(stream.snapshots()[0]!.at, T0)
    assert.equal(source.listeners.size, 2, 'the stream subscribes')

    const next = snapshot(T0 + 5000, [10, 250])
    source.push(next)
    await stream.until('the pushed snapshot', () => stream.snapshots().length === 2)
    assert.deepEqual(stream.snapshots()[1], next)
    assert.match(stream.text, new RegExp(`event: snapshot\nid: ${T0 + 5000}\ndata: \\{`))

    stream.response.destroy()
    await eventually('the stream to unsubscribe', () => source.listeners.size === 1)
  })

  test('a comment heartbeat keeps an idle stream open', async () => {
    const source = new FakeDashboardSource()
    const { url } = await listening(source, { heartbeatMs: 30 })
    const stream = await EventStream.open(`${url}/api/events`)
    await stream.until('two heartbeats', () => stream.text.split(': heartbeat\n\n').length >= 3)
    assert.deepEqual(stream.snapshots(), [], 'no snapshot yet: nothing but comments')
    stream.response.destroy()
  })

  test('since= and Last-Event-ID replay what the client missed, from the history', async () => {
    const source = new FakeDashboardSource()
    const { url } = await listening(source)
    for (let i = 0; i < 4; i++) source.push(snapshot(T0 + i * 1000, [i]))

    const bySince = await EventStream.open(`${url}/api/events?since=${T0 + 1000}`)
    await bySince.until('two replayed', () => bySince.snapshots().length === 2)
    assert.deepEqual(
      bySince.snapshots().map((s) => s.at),
      [T0 + 2000, T0 + 3000]
    )
    const byHeader = await EventStream.open(`${url}/api/events?since=${T0}`, { 'last-event-id': String(T0 + 2000) })
    await byHeader.until('one replayed', () => byHeader.snapshots().length === 1)
    assert.equal(byHeader.snapshots()[0]!.at, T0 + 3000, 'the newer of the two wins')
    bySince.response.destroy()
    byHeader.response.destroy()
  })

  test("the app's close ends open streams (and does not wait for them)", async () => {
    const source = new FakeDashboardSource()
    const { app, url } = await listening(source)
    const stream = await EventStream.open(`${url}/api/events`)
    await stream.until('the retry line', () => stream.text.startsWith('retry:'))
    const ended = new Promise<void>((resolve) => stream.response.on('end', resolve))
    await app.close()
    await ended
    assert.equal(source.listeners.size, 0, 'the streams and the history unsubscribed')
  })
})
