/**
 * What `npm run bench:scale` records: every worker's JSON log line, the autoscaler's and the
 * pool's own log lines, and the group coordinator's lines from the broker log. All times are
 * epoch milliseconds of this machine's clock (worker lines carry their own `time`, the broker
 * log its own timestamp), so events of different processes line up to the millisecond.
 */
import { closeSync, openSync, readSync, statSync, type WriteStream } from 'node:fs'
import pino from 'pino'
import type { PoolWorkerInfo } from '../../src/autoscaler/backends/local.ts'
import { parseWorkerLogLine, type WorkerLogLine } from '../../src/autoscaler/backends/worker-log.ts'
import type { Logger } from '../../src/log.ts'

/** One log line of one `lagscale consumer` (or of the start-up probe inside it). */
export type WorkerLine = Omit<WorkerLogLine, 'pid' | 'value' | 'level'>

/** A log line of the autoscaler loop or the pool (decision, worker-spawned, worker-stopped...). */
export interface ScalerLine {
  t: number
  event: string
  action?: string
  from?: number
  desired?: number
  worker?: string
  msg?: string
}

/** One group-coordinator line of the broker log. */
export interface GroupLogEvent {
  t: number
  kind: 'join' | 'pending-join' | 'prepare' | 'stabilized' | 'assignment' | 'left' | 'empty'
  group: string
  /** The pool's worker id (worker-3) when the member id names one (client id lagscale-worker-3). */
  worker?: string
  /** prepare: the old generation; stabilized / assignment: the new one. */
  generation?: number
  members?: number
  reason?: string
}

export class ScaleRecorder {
  readonly workers: WorkerLine[] = []
  readonly scaler: ScalerLine[] = []
  readonly #raw: WriteStream | undefined
  /** Workers spawned and not yet reported stopped: what a forced exit must kill. */
  readonly #pids = new Map<string, number>()
  readonly logger: Logger

  constructor(raw?: WriteStream) {
    this.#raw = raw
    this.logger = pino(
      { name: 'lagscale-autoscaler', level: 'info', timestamp: pino.stdTimeFunctions.isoTime },
      { write: (line: string) => this.#onScalerLine(line) }
    ) as unknown as Logger
  }

  /** For createAutoscaler's onWorkerOutput / createLocalPool's onOutput. */
  readonly onWorkerOutput = (worker: PoolWorkerInfo, line: string): void => {
    const arrived = Date.now()
    this.#raw?.write(`${worker.id} ${line}\n`)
    const parsed = parseWorkerLogLine(worker, line, arrived)
    if (!parsed) {
      this.workers.push({ worker: worker.id, spawnedAt: worker.startedAt, t: arrived, event: '', msg: line })
      return
    }
    const { pid: _pid, value: _value, level, msg, ...entry }: WorkerLogLine = parsed
    // The message only where it says what happened: lines without an event, and warnings.
    const kept: WorkerLine = entry
    if ((!entry.event || (level ?? 0) >= 40) && msg !== undefined) kept.msg = msg
    this.workers.push(kept)
  }

  #onScalerLine(line: string): void {
    const arrived = Date.now()
    this.#raw?.write(`autoscaler ${line}`)
    let o: Record<string, unknown>
    try {
      o = JSON.parse(line) as Record<string, unknown>
    } catch {
      return
    }
    const entry: ScalerLine = { t: arrived, event: typeof o['event'] === 'string' ? o['event'] : '' }
    if (typeof o['action'] === 'string') entry.action = o['action']
    if (typeof o['from'] === 'number') entry.from = o['from']
    if (typeof o['desired'] === 'number') entry.desired = o['desired']
    if (typeof o['worker'] === 'string') entry.worker = o['worker']
    if (typeof o['msg'] === 'string') entry.msg = o['msg']
    this.scaler.push(entry)
    if (entry.worker && entry.event === 'worker-spawned' && typeof o['pid'] === 'number') {
      this.#pids.set(entry.worker, o['pid'])
    }
    if (entry.worker && (entry.event === 'worker-stopped' || entry.event === 'worker-died')) {
      this.#pids.delete(entry.worker)
    }
  }

  livePids(): number[] {
    return [...this.#pids.values()]
  }

  /**
   * A worker that died on its own (not stopped by the pool) since `since`, with its last output
   * lines: the pool would replace it, but the step or round it belonged to no longer measures one
   * start-up and one rebalance (e.g. src/ does not load because someone is editing it).
   */
  died(since: number): string | undefined {
    const line = this.scaler.find((l) => l.event === 'worker-died' && l.t >= since)
    if (!line?.worker) return undefined
    const output = this.workers
      .filter((l) => l.worker === line.worker)
      .slice(-12)
      .map((l) => l.msg ?? l.event)
    return `${line.msg ?? `${line.worker} died`}; its last output:\n  ${output.join('\n  ')}`
  }

  /** Lines of one worker, optionally of some events only. */
  of(worker: string, ...events: string[]): WorkerLine[] {
    return this.workers.filter((l) => l.worker === worker && (events.length === 0 || events.includes(l.event)))
  }
}

const LINE = /^\[(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3})\] \w+ (.*)$/
const PATTERNS: [GroupLogEvent['kind'], RegExp][] = [
  ['join', /Dynamic member with unknown member id joins group (\S+) in \w+ state\. Created a new member id (\S+) /],
  ['pending-join', /Pending dynamic member with id (\S+) joins group (\S+) in \w+ state/],
  ['prepare', /Preparing to rebalance group (\S+) in state \w+ with old generation (\d+) \(reason: (.*)$/],
  ['stabilized', /Stabilized group (\S+) generation (\d+) with (\d+) members/],
  ['assignment', /Assignment received from leader \S+ for group (\S+) for generation (\d+)/],
  ['left', /\[Group (\S+)\] Member (\S+) has left group/],
  ['empty', /Group (\S+) with generation (\d+) is now empty/]
]

/** Follows the broker log from where it is now and parses the group coordinator's lines. */
export class BrokerLogTail {
  readonly events: GroupLogEvent[] = []
  readonly #file: string
  #offset: number
  #partial = ''

  constructor(file: string) {
    this.#file = file
    this.#offset = statSync(file).size
  }

  /** Reads what was appended since the last call. */
  poll(): void {
    let size: number
    try {
      size = statSync(this.#file).size
    } catch {
      return
    }
    if (size <= this.#offset) return
    const fd = openSync(this.#file, 'r')
    try {
      const buffer = Buffer.alloc(size - this.#offset)
      const read = readSync(fd, buffer, 0, buffer.length, this.#offset)
      this.#offset += read
      const text = this.#partial + buffer.subarray(0, read).toString('utf8')
      const lines = text.split('\n')
      this.#partial = lines.pop() ?? ''
      for (const line of lines) {
        const event = parseGroupLine(line)
        if (event) this.events.push(event)
      }
    } finally {
      closeSync(fd)
    }
  }

  of(group: string, ...kinds: GroupLogEvent['kind'][]): GroupLogEvent[] {
    return this.events.filter((e) => e.group === group && (kinds.length === 0 || kinds.includes(e.kind)))
  }
}

/** A group coordinator line of the broker log, or undefined. Exported for a unit check. */
export function parseGroupLine(line: string): GroupLogEvent | undefined {
  const m = LINE.exec(line)
  if (!m || !m[8]!.includes('GroupCoordinator')) return undefined
  // The broker logs in this machine's local time (log4j %d), as new Date(y, m, d, ...) reads it.
  const t = new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!).getTime()
  const text = m[8]!
  for (const [kind, re] of PATTERNS) {
    const p = re.exec(text)
    if (!p) continue
    switch (kind) {
      case 'join':
        return { t, kind, group: p[1]!, ...workerOf(p[2]!) }
      case 'pending-join':
        return { t, kind, group: p[2]!, ...workerOf(p[1]!) }
      case 'prepare':
        return { t, kind, group: p[1]!, generation: +p[2]!, reason: p[3]!.replace(/\)\.? \(org\.apache.*$/, '') }
      case 'stabilized':
        return { t, kind, group: p[1]!, generation: +p[2]!, members: +p[3]! }
      case 'assignment':
        return { t, kind, group: p[1]!, generation: +p[2]! }
      case 'left':
        return { t, kind, group: p[1]!, ...workerOf(p[2]!) }
      case 'empty':
        return { t, kind, group: p[1]!, generation: +p[2]! }
    }
  }
  return undefined
}

function workerOf(memberId: string): { worker?: string } {
  const m = /^lagscale-(worker-\d+)-/.exec(memberId)
  return m ? { worker: m[1]! } : {}
}
