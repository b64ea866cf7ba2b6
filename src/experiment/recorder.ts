/**
 * What a case records while it runs: every JSON line of every local worker (the pool's
 * onOutput), the autoscaler's and the pool's own log lines (a pino logger writing here), and
 * the loop's snapshots. All times are epoch ms of this machine's clock: a worker line carries
 * its own `time`, so events of different processes line up to the millisecond.
 */
import { Writable } from 'node:stream'
import pino from 'pino'
import type { PoolWorkerInfo } from '../autoscaler/backends/local.ts'
import { parseWorkerLogLine, type WorkerLogLine } from '../autoscaler/backends/worker-log.ts'
import type { AutoscalerSnapshot } from '../autoscaler/types.ts'
import type { Logger } from '../log.ts'

/** One log line of one `lagscale consumer`. */
export type WorkerEvent = Omit<WorkerLogLine, 'level' | 'msg' | 'waitedMs'>

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
    const parsed = parseWorkerLogLine(worker, line)
    if (!parsed) {
      if (this.stray.length < 200) this.stray.push(`${worker.id}: ${line}`)
      return
    }
    // Only the fields the experiment reads (a run keeps tens of thousands of lines).
    const { level: _level, msg: _msg, waitedMs: _waited, ...e } = parsed
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
