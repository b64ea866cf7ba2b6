/**
 * What a case records while it runs: every JSON line of every local worker (the pool's
 * onOutput), the autoscaler's and the pool's own log lines (a pino logger writing here), and
 * the loop's snapshots. All times are epoch ms of this machine's clock: a worker line carries
 * its own `time`, so events of different processes line up to the millisecond.
 */
import { Writable } from 'node:stream'
import pino from 'pino'
import type { PoolWorkerInfo } from '../autoscaler/backends/local.ts'
import type { AutoscalerSnapshot } from '../autoscaler/types.ts'
import type { Logger } from '../log.ts'

/** One log line of one `lagscale consumer`. */
export interface WorkerEvent {
  worker: string
  pid: number | undefined
  /** When the pool spawned it. */
  spawnedAt: number
  /** The line's own time, else when it arrived. */
  t: number
  /** START, END, assigned, started, rebalance, stopping, stopped, handoff, ... ('' when none). */
  event: string
  partition?: number
  offset?: number
  partitions?: number[]
  generationId?: number
  value?: string
}

/** A line of the autoscaler loop or the pool: decision, worker-spawned, worker-stopped, worker-died... */
export interface ScalerEvent {
  t: number
  event: string
  worker?: string
  action?: string
  from?: number
  desired?: number
  msg?: string
}

/** A snapshot as it arrived, with the wall time it arrived at. */
export interface SnapshotEvent {
  /** The observation's time (the tick's start). */
  at: number
  /** When the tick was done (the decision applied). */
  t: number
  snapshot: AutoscalerSnapshot
}

/** Every worker process a recorder saw and has not seen exit: what a forced exit must not leave behind. */
const livePids = new Set<number>()

/** SIGKILL for every worker still alive (a last resort when the experiment exits without closing its pool). */
export function killLiveWorkers(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
  livePids.clear()
}

export class CaseRecorder {
  readonly workers: WorkerEvent[] = []
  readonly scaler: ScalerEvent[] = []
  readonly snapshots: SnapshotEvent[] = []
  /** Lines that were not JSON (a worker's stack trace, say): kept for error messages. */
  readonly stray: string[] = []
  readonly logger: Logger
  readonly #finished = new Map<string, number>()
  readonly #exited = new Set<string>()
  readonly #pids = new Map<string, number>()
  #ends = 0

  constructor() {
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line) this.#scalerLine(line)
        callback()
      }
    })
    this.logger = pino({ name: 'lagscale-experiment', level: 'info' }, stream)
  }

  readonly onWorkerOutput = (worker: PoolWorkerInfo, line: string): void => {
    if (worker.pid !== undefined && !this.#exited.has(worker.id)) {
      livePids.add(worker.pid)
      this.#pids.set(worker.id, worker.pid)
    }
    if (!line.startsWith('{')) {
      if (this.stray.length < 200) this.stray.push(`${worker.id}: ${line}`)
      return
    }
    let o: Record<string, unknown>
    try {
      o = JSON.parse(line) as Record<string, unknown>
    } catch {
      return
    }
    const time = typeof o['time'] === 'string' ? Date.parse(o['time']) : typeof o['time'] === 'number' ? o['time'] : NaN
    const e: WorkerEvent = {
      worker: worker.id,
      pid: worker.pid,
      spawnedAt: worker.startedAt,
      t: Number.isFinite(time) ? time : Date.now(),
      event: typeof o['event'] === 'string' ? o['event'] : ''
    }
    if (typeof o['partition'] === 'number') e.partition = o['partition']
    if (o['offset'] !== undefined) e.offset = Number(o['offset'])
    if (Array.isArray(o['partitions'])) e.partitions = o['partitions'] as number[]
    if (typeof o['generationId'] === 'number') e.generationId = o['generationId']
    if (typeof o['value'] === 'string') e.value = o['value']
    this.workers.push(e)
    if (e.event === 'END') {
      const key = `${e.partition}:${e.offset}`
      this.#finished.set(key, (this.#finished.get(key) ?? 0) + 1)
      this.#ends++
    }
  }

  readonly onSnapshot = (snapshot: AutoscalerSnapshot): void => {
    this.snapshots.push({ at: snapshot.at, t: Date.now(), snapshot })
  }

  #scalerLine(line: string): void {
    let o: Record<string, unknown>
    try {
      o = JSON.parse(line) as Record<string, unknown>
    } catch {
      return
    }
    const e: ScalerEvent = {
      t: typeof o['time'] === 'number' ? o['time'] : Date.now(),
      event: typeof o['event'] === 'string' ? o['event'] : ''
    }
    if (typeof o['worker'] === 'string') e.worker = o['worker']
    if (typeof o['action'] === 'string') e.action = o['action']
    if (typeof o['from'] === 'number') e.from = o['from']
    if (typeof o['desired'] === 'number') e.desired = o['desired']
    if (typeof o['msg'] === 'string') e.msg = o['msg']
    this.scaler.push(e)
    // The pool's own line when a worker exits: its pid is free again.
    if ((e.event === 'worker-stopped' || e.event === 'worker-died') && e.worker) {
      const pid = this.#pids.get(e.worker)
      if (pid !== undefined) livePids.delete(pid)
      this.#exited.add(e.worker)
    }
  }

  /** Distinct records (partition:offset) finished so far. */
  get finished(): number {
    return this.#finished.size
  }

  /** END lines so far (a record run twice counts twice). */
  get ends(): number {
    return this.#ends
  }

  events(event: string, worker?: string): WorkerEvent[] {
    return this.workers.filter((e) => e.event === event && (worker === undefined || e.worker === worker))
  }

  /** A worker that died on its own (the pool replaces it; the case reports it). */
  deaths(): ScalerEvent[] {
    return this.scaler.filter((e) => e.event === 'worker-died')
  }
}
