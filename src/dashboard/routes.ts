import type { IncomingMessage, ServerResponse } from 'node:http'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyTypeProvider,
  RawServerDefault
} from 'fastify'
import type { Registry } from 'prom-client'
import type { AutoscalerSnapshot } from '../autoscaler/types.ts'
import { type Asset, loadAssets } from './assets.ts'
import { SnapshotHistory } from './history.ts'

/** Where the dashboard gets its snapshots: the autoscaler, or anything that produces them. */
export interface DashboardSource {
  /** The newest snapshot, undefined before the first one. */
  snapshot(): AutoscalerSnapshot | undefined
  /** Calls `listener` with each new snapshot; returns the function that stops it. */
  subscribe(listener: (snapshot: AutoscalerSnapshot) => void): () => void
}

export interface DashboardOptions {
  /** Serves GET /metrics (Prometheus text) from this registry; no /metrics route without one. */
  registry?: Registry
  /** Snapshots kept in memory for GET /api/history (default 720: an hour at one every 5 s). */
  historyLimit?: number
  /** Milliseconds between the SSE comment lines that keep idle connections open (default 15 000). */
  heartbeatMs?: number
}

/** What registerDashboard leaves behind, for the code that owns the app. */
export interface Dashboard {
  readonly history: SnapshotHistory
  /** Open GET /api/events streams. */
  clients(): number
  /** Ends every open event stream; browsers reconnect on their own. The app's close does this too. */
  disconnectAll(): void
}

export const DEFAULT_HISTORY_LIMIT = 720
export const DEFAULT_HEARTBEAT_MS = 15_000
/** What the browser waits before it reconnects a dropped event stream (the SSE `retry:` field). */
export const SSE_RETRY_MS = 2000

const JSON_TYPE = 'application/json; charset=utf-8'
/** Fastify's querystring parser gives a string, or an array when a key repeats. */
type Query = Record<string, string | string[] | undefined>

/**
 * The autoscaler's live dashboard on `app`: the page at `/`, its files under `/assets/`, the
 * snapshot as JSON (`/api/snapshot`, `/api/history`, the consumers' health at `/api/health`), a Server-Sent Events stream of new
 * snapshots (`/api/events`) and, given a registry, `/metrics`. Every URL in the page is
 * relative, so the dashboard also works registered under a prefix (with a trailing slash).
 */
export function registerDashboard<Logger extends FastifyBaseLogger, Provider extends FastifyTypeProvider>(
  target: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, Provider>,
  source: DashboardSource,
  options: DashboardOptions = {}
): Dashboard {
  // Any logger or type provider: the routes below use neither.
  const app = target as unknown as FastifyInstance
  const history = new SnapshotHistory(options.historyLimit ?? DEFAULT_HISTORY_LIMIT)
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const { page, files } = loadAssets()
  const streams = new Set<() => void>()
  const serialized = new WeakMap<AutoscalerSnapshot, string>()
  const toJson = (s: AutoscalerSnapshot): string => {
    let json = serialized.get(s)
    if (json === undefined) {
      json = JSON.stringify(s)
      serialized.set(s, json)
    }
    return json
  }

  const first = source.snapshot()
  if (first !== undefined) history.push(first)
  const stopHistory = source.subscribe((s) => void history.push(s))

  app.addHook('preClose', async () => {
    // An open event stream would keep the server from closing.
    for (const end of [...streams]) end()
  })
  app.addHook('onClose', async () => stopHistory())

  app.get('/', (request, reply) => {
    // Registered under a prefix, /prefix must become /prefix/ for the page's relative URLs to resolve.
    const [path = '', query] = request.url.split('?', 2)
    if (!path.endsWith('/')) return reply.redirect(`${path}/${query === undefined ? '' : `?${query}`}`, 302)
    return sendAsset(request, reply, page)
  })
  app.get<{ Params: { name: string } }>('/assets/:name', (request, reply) => {
    const asset = files.get(request.params.name)
    if (asset === undefined) return reply.code(404).type(JSON_TYPE).send({ message: 'No such dashboard file.' })
    return sendAsset(request, reply, asset)
  })

  app.get('/api/snapshot', (_request, reply) => {
    const snapshot = source.snapshot()
    reply.header('cache-control', 'no-store')
    if (snapshot === undefined) {
      return reply
        .code(503)
        .type(JSON_TYPE)
        .send({ message: 'No snapshot yet: the autoscaler has not finished its first observation.' })
    }
    return reply.type(JSON_TYPE).send(toJson(snapshot))
  })

  // The consumers' health alone, for a probe or a script: what the page's health card shows.
  app.get('/api/health', (_request, reply) => {
    const snapshot = source.snapshot()
    reply.header('cache-control', 'no-store')
    if (snapshot?.health === undefined) {
      return reply
        .code(503)
        .type(JSON_TYPE)
        .send({ message: 'No health verdict yet: the autoscaler has not finished its first observation.' })
    }
    const { health, status } = snapshot
    return reply.type(JSON_TYPE).send({ ...health, running: status.running, desired: status.desired })
  })

  app.get<{ Querystring: Query }>('/api/history', (request, reply) => {
    const since = epochMs(request.query['since'])
    const limit = wholeNumber(request.query['limit'])
    if (since === null || limit === null) {
      return reply
        .code(400)
        .type(JSON_TYPE)
        .send({ message: 'since must be epoch milliseconds and limit a whole number.' })
    }
    const snapshots = history.list({ since, count: limit })
    return reply
      .header('cache-control', 'no-store')
      .type(JSON_TYPE)
      .send(`{"limit":${history.limit},"snapshots":[${snapshots.map(toJson).join(',')}]}`)
  })

  app.get<{ Querystring: Query }>('/api/events', (request, reply) => {
    // The page passes ?since= (its newest snapshot) when it opens the stream; the browser adds Last-Event-ID
    // when it reconnects that stream. Either way the client gets what it missed, from the history.
    const since = newest(epochMs(request.query['since']), epochMs(request.headers['last-event-id']))
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: no compressing proxy holds events back to fill a buffer.
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx (and proxies that copy it) pass the stream through unbuffered.
      'x-accel-buffering': 'no'
    })
    res.write(`retry: ${SSE_RETRY_MS}\n\n`)

    const send = (s: AutoscalerSnapshot): void => {
      // A client that stopped reading misses snapshots rather than growing our buffers; the next one catches it up.
      if (res.writableNeedDrain) return
      try {
        res.write(`event: snapshot\nid: ${s.at}\ndata: ${toJson(s)}\n\n`)
      } catch (err) {
        // Called from the source's notify loop: a snapshot that cannot be sent must not break the autoscaler.
        request.log.warn({ err }, 'dashboard: could not send a snapshot')
      }
    }
    const latest = source.snapshot()
    const backlog = since === undefined ? (latest === undefined ? [] : [latest]) : history.list({ since })
    for (const s of backlog) send(s)

    const unsubscribe = source.subscribe(send)
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs)
    const cleanup = (): void => {
      if (!streams.delete(end)) return
      clearInterval(heartbeat)
      unsubscribe()
    }
    const end = (): void => {
      cleanup()
      res.end()
    }
    streams.add(end)
    res.on('close', cleanup)
    res.on('error', cleanup)
    if (res.destroyed) cleanup() // the client left before we got here: 'close' will not come again
  })

  if (options.registry !== undefined) {
    const registry = options.registry
    app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  }

  return {
    history,
    clients: () => streams.size,
    disconnectAll: () => {
      for (const end of [...streams]) end()
    }
  }
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply.header('etag', asset.etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff')
  if (asset.type.startsWith('text/html')) {
    reply.header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'"
    )
  }
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send()
  return reply.type(asset.type).send(asset.body)
}

/** undefined when absent, null when not epoch milliseconds. */
function epochMs(value: string | string[] | undefined): number | undefined | null {
  if (value === undefined) return undefined
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN
  return Number.isFinite(n) ? n : null
}

/** The larger of two optional epoch ms; unparsable ones are ignored. */
function newest(a: number | undefined | null, b: number | undefined | null): number | undefined {
  const known = [a, b].filter((x): x is number => typeof x === 'number')
  return known.length === 0 ? undefined : Math.max(...known)
}

/** undefined when absent, null when not a whole number >= 0. */
function wholeNumber(value: string | string[] | undefined): number | undefined | null {
  if (value === undefined) return undefined
  return typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : null
}
