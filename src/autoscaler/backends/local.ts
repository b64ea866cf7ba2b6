import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { roleClientId } from '../../kafka/client-options.ts'
import type { Logger } from '../../log.ts'
import { formatDuration, formatTime } from '../policy/format.ts'
import type { BackendStatus, ConsumerHealth, Decision, ReplacementReport, ScalingBackend } from '../types.ts'

/** standby: loaded and ready, not in the group (not counted as running) until promoted. */
export type PoolWorkerState = 'standby' | 'starting' | 'running' | 'stopping'

export interface PoolWorkerInfo {
  /** worker-1, worker-2, ... never reused within a pool. */
  id: string
  /** The client id its group member shows (`lagscale-worker-1-consumer`), as the health check names it. */
  clientId: string
  pid: number | undefined
  state: PoolWorkerState
  /** HTTP port for health/metrics, once the worker said it started. */
  port?: number
  startedAt: number
}

export interface LocalPoolOptions {
  /** Arguments after `lagscale consumer` (connection, topic, group, work unit...). */
  consumerArgs: string[]
  /** Environment of the workers (default: this process's). */
  env?: NodeJS.ProcessEnv
  logger: Logger
  /** Every line a worker prints (JSON logs), e.g. to a file or a test. */
  onOutput?: (worker: PoolWorkerInfo, line: string) => void
  /** SIGKILL a worker that has not exited this long after SIGTERM (its grace + margin). */
  killAfterMs?: number
  /** Command that runs lagscale; default: this package's bin with this Node. */
  command?: { file: string; args: string[] }
  /**
   * Warm standbys kept beside the desired workers (`lagscale consumer --standby`: modules
   * loaded, topic checked, HTTP up, not in the group). Scale-out promotes them first, so a
   * new consumer joins in well under a second instead of loading Node and the client
   * (1-2 s alone, 5-14 s when 7 start at once on 2 cores: docs/benchmarks.md). Default 0.
   */
  standby?: number
}

interface PoolWorker extends PoolWorkerInfo {
  child: ChildProcess
  /** When it was told to join the group: spawned as an active worker, or promoted from standby. */
  joinAt: number
  /** A standby that said it is ready (loaded, HTTP up). */
  ready: boolean
  exited: Promise<number | null>
  /** Set when we asked it to stop: its exit is expected. */
  stopRequested: boolean
}

const LAGSCALE_BIN = fileURLToPath(new URL('../../../bin/lagscale.js', import.meta.url))
/** A worker that dies sooner than this after starting counts toward the crash-loop backoff. */
const EARLY_DEATH_MS = 10_000
const RESPAWN_BACKOFF_MAX_MS = 30_000
/**
 * Replacing unhealthy workers: the first replacement goes at once, each one within
 * REPLACE_RESET_MS of the previous waits twice as long as the one before (30 s, 1 min, 2 min...
 * up to 10 min), so a cause no new process fixes never becomes a restart storm.
 */
const REPLACE_BACKOFF_MIN_MS = 30_000
const REPLACE_BACKOFF_MAX_MS = 10 * 60_000
const REPLACE_RESET_MS = 15 * 60_000

/**
 * The `local` backend: `lagscale consumer` processes on this machine. Scale-out spawns,
 * scale-in sends SIGTERM to the newest (which finish their record, commit, leave the
 * group) and a worker that dies on its own is replaced, with a growing delay if it keeps
 * dying right after start, so a broken setup never becomes a tight crash loop. A worker
 * that lives but is out of the group, or owns a stalled partition, is replaced on the
 * health check's word (replaceUnhealthy). Every worker stops when this process dies: it
 * holds the other end of the worker's stdin (`--exit-with-parent`).
 */
export class LocalPoolBackend implements ScalingBackend {
  readonly name = 'local'
  readonly #options: LocalPoolOptions
  readonly #workers: PoolWorker[] = []
  #desired = 0
  #seq = 0
  #respawnDelayMs = 1000
  #respawnTimer: NodeJS.Timeout | undefined
  #closed = false
  #replaceDelayMs = REPLACE_BACKOFF_MIN_MS
  #lastReplaceAt: number | undefined

  constructor(options: LocalPoolOptions) {
    this.#options = options
  }

  get workers(): PoolWorkerInfo[] {
    return this.#workers.map(({ id, clientId, pid, state, port, startedAt }) => ({
      id,
      clientId,
      pid,
      state,
      startedAt,
      ...(port !== undefined ? { port } : {})
    }))
  }

  async status(): Promise<BackendStatus> {
    const live = this.#live()
    const standby = this.#workers.filter((w) => w.state === 'standby')
    return {
      desired: this.#desired,
      running: live.length,
      expectedMembers: live.map((w) => ({ clientId: w.clientId, since: w.joinAt })),
      detail: {
        workers: this.workers.filter((w) => w.state !== 'standby'),
        stopping: this.#workers.filter((w) => w.state === 'stopping').length,
        standby: standby.length,
        standbyReady: standby.filter((w) => w.ready).length
      }
    }
  }

  async scaleTo(desired: number, _decision?: Decision): Promise<void> {
    if (this.#closed) return
    this.#desired = desired
    this.#reconcile()
  }

  /** Workers that count toward the desired number: in the group or on their way in. */
  #live(): PoolWorker[] {
    return this.#workers.filter((w) => w.state === 'starting' || w.state === 'running')
  }

  /** Promotes standbys or spawns, or stops workers, until the live ones match the desired count; then tops up the standbys. */
  #reconcile(): void {
    if (this.#closed) return
    const live = this.#live()
    let missing = this.#desired - live.length
    if (missing > 0) {
      // Ready standbys first, then the ones still loading (they read "start" once loaded).
      const standbys = this.#workers
        .filter((w) => w.state === 'standby')
        .sort((a, b) => Number(b.ready) - Number(a.ready) || a.startedAt - b.startedAt)
      for (const w of standbys.slice(0, missing)) this.#promote(w)
      missing -= Math.min(missing, standbys.length)
      for (let i = 0; i < missing; i++) this.#spawn(false)
    }
    // Newest first: the oldest workers keep their partitions and warm state.
    for (const w of live.slice(this.#desired).reverse()) void this.#stopWorker(w)
    // New standbys only once no worker is starting: loading a process takes the CPU they need to join.
    if (this.#live().some((w) => w.state === 'starting')) return
    const standby = this.#workers.filter((w) => w.state === 'standby').length
    for (let i = standby; i < (this.#options.standby ?? 0); i++) this.#spawn(true)
  }

  /**
   * Stops (SIGTERM, SIGKILL after killAfterMs) the workers the health check names - out of the
   * group beyond the grace, or owning a stalled partition - and starts new ones in their place
   * (a ready standby first). Paced by a backoff; returns what it did for the decision log.
   */
  async replaceUnhealthy(health: ConsumerHealth): Promise<ReplacementReport | undefined> {
    if (this.#closed) return undefined
    const named = new Set([...(health.missing?.clientIds ?? []), ...health.stalled.flatMap((s) => s.owner ?? [])])
    const targets = this.#live().filter((w) => named.has(w.clientId))
    if (targets.length === 0) return undefined
    const names = targets.map((w) => w.clientId).join(', ')
    const now = Date.now()
    const last = this.#lastReplaceAt
    if (last !== undefined && now < last + this.#replaceDelayMs) {
      return {
        replaced: [],
        note: `not replacing ${names} before ${formatTime(last + this.#replaceDelayMs)} (${formatDuration(this.#replaceDelayMs)} after the last replacement)`
      }
    }
    this.#replaceDelayMs =
      last !== undefined && now - last < REPLACE_RESET_MS
        ? Math.min(this.#replaceDelayMs * 2, REPLACE_BACKOFF_MAX_MS)
        : REPLACE_BACKOFF_MIN_MS
    this.#lastReplaceAt = now
    for (const w of targets) {
      const why = health.missing?.clientIds?.includes(w.clientId)
        ? 'not in the group'
        : `owns stalled partition ${health.stalled
            .filter((s) => s.owner === w.clientId)
            .map((s) => s.partition)
            .join(', ')}`
      this.#options.logger.warn(
        { event: 'worker-replaced', worker: w.id, pid: w.pid, clientId: w.clientId, why },
        `replacing ${w.id} (${why})`
      )
      void this.#stopWorker(w)
    }
    this.#reconcile()
    return { replaced: targets.map((w) => w.clientId), note: `replacing ${names}: stopped, new workers started` }
  }

  #promote(worker: PoolWorker): void {
    worker.state = 'starting'
    worker.joinAt = Date.now()
    worker.child.stdin?.write('start\n')
    this.#options.logger.info(
      { event: 'worker-promoted', worker: worker.id, pid: worker.pid, ready: worker.ready },
      `promoted standby ${worker.id}`
    )
  }

  #spawn(standby: boolean): PoolWorker {
    const id = `worker-${++this.#seq}`
    const command = this.#options.command ?? { file: process.execPath, args: [LAGSCALE_BIN] }
    const clientId = `lagscale-${id}`
    const args = [
      ...command.args,
      'consumer',
      '--client-id',
      clientId,
      // Our end of its stdin closes when this process dies, however it dies: the worker stops then.
      '--exit-with-parent',
      ...(standby ? ['--standby'] : []),
      ...this.#options.consumerArgs
    ]
    const child = spawn(command.file, args, {
      env: this.#options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe']
    })
    // A worker that died leaves a closed pipe: its exit is handled below, not as an error here.
    child.stdin?.on('error', () => {})
    const now = Date.now()
    const worker: PoolWorker = {
      id,
      // The worker's consumer adds "-consumer" to the client id it is given (kafka/client-options.ts).
      clientId: roleClientId(clientId, 'consumer'),
      pid: child.pid,
      state: standby ? 'standby' : 'starting',
      ready: false,
      startedAt: now,
      joinAt: now,
      child,
      stopRequested: false,
      exited: new Promise((resolve) => child.once('exit', (code) => resolve(code)))
    }
    this.#workers.push(worker)
    this.#options.logger.info(
      { event: 'worker-spawned', worker: id, pid: child.pid, standby },
      `spawned ${id}${standby ? ' (standby)' : ''}`
    )
    const onLine = (line: string): void => {
      if (worker.state === 'standby' && line.includes('"event":"standby"')) {
        worker.ready = true
        const port = /"port":(\d+)/.exec(line)?.[1]
        if (port) worker.port = Number(port)
      } else if (worker.state === 'starting' && line.includes('"event":"started"')) {
        const port = /"port":(\d+)/.exec(line)?.[1]
        if (port) worker.port = Number(port)
        worker.state = 'running'
        this.#respawnDelayMs = 1000
        // Standbys wait for starting workers; this one is in.
        queueMicrotask(() => this.#reconcile())
      }
      this.#options.onOutput?.(worker, line)
    }
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine)
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine)
    child.once('error', (err) => {
      this.#options.logger.error({ event: 'worker-spawn-failed', worker: id, err: err.message }, 'cannot start worker')
    })
    void worker.exited.then((code) => this.#onExit(worker, code))
    return worker
  }

  #onExit(worker: PoolWorker, code: number | null): void {
    const index = this.#workers.indexOf(worker)
    if (index >= 0) this.#workers.splice(index, 1)
    const lifetimeMs = Date.now() - worker.startedAt
    if (worker.stopRequested || this.#closed) {
      this.#options.logger.info({ event: 'worker-stopped', worker: worker.id, code }, `${worker.id} stopped`)
      return
    }
    const early = lifetimeMs < EARLY_DEATH_MS
    const delay = early ? this.#respawnDelayMs : 0
    if (early) this.#respawnDelayMs = Math.min(this.#respawnDelayMs * 2, RESPAWN_BACKOFF_MAX_MS)
    this.#options.logger.warn(
      { event: 'worker-died', worker: worker.id, code, lifetimeMs, replaceInMs: delay },
      `${worker.id} died (exit ${code ?? 'by signal'}); replacing it${delay ? ` in ${delay} ms` : ''}`
    )
    clearTimeout(this.#respawnTimer)
    this.#respawnTimer = setTimeout(() => this.#reconcile(), delay)
  }

  async #stopWorker(worker: PoolWorker): Promise<void> {
    if (worker.stopRequested) return worker.exited.then(() => {})
    worker.stopRequested = true
    worker.state = 'stopping'
    worker.child.kill('SIGTERM')
    const killAfter = this.#options.killAfterMs ?? 30_000
    const timer = setTimeout(() => {
      this.#options.logger.warn({ event: 'worker-killed', worker: worker.id }, `${worker.id} ignored SIGTERM; killing`)
      worker.child.kill('SIGKILL')
    }, killAfter)
    await worker.exited
    clearTimeout(timer)
  }

  /** Stops every worker gracefully (SIGTERM, then SIGKILL after killAfterMs). */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#respawnTimer)
    await Promise.all(this.#workers.map((w) => this.#stopWorker(w)))
  }
}

export function createLocalPool(options: LocalPoolOptions): LocalPoolBackend {
  return new LocalPoolBackend(options)
}
