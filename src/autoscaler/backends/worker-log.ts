/**
 * One JSON log line of a pool worker (`lagscale consumer`), as the tools that watch a pool read
 * it (bench:scale, the experiment): which worker, when (the line's own `time`, else its
 * arrival), what event, and the record or assignment fields it carries.
 */
import type { PoolWorkerInfo } from './local.ts'

export interface WorkerLogLine {
  worker: string
  pid: number | undefined
  /** When the pool spawned the worker. */
  spawnedAt: number
  /** The line's own time (its `time` field), else when it arrived. */
  t: number
  /** START, END, assigned, started, rebalance, handoff, stopping, stopped, ... ('' when none). */
  event: string
  partition?: number
  offset?: number
  partitions?: number[]
  generationId?: number
  /** handoff: how long the new owner waited for the previous one's record. */
  waitedMs?: number
  /** START/END: the record's value. */
  value?: string
  /** pino's level (30 info, 40 warn, ...). */
  level?: number
  msg?: string
}

/** The line's fields, or undefined when it is not a JSON object (a stack trace, say). */
export function parseWorkerLogLine(
  worker: Pick<PoolWorkerInfo, 'id' | 'pid' | 'startedAt'>,
  line: string,
  arrived = Date.now()
): WorkerLogLine | undefined {
  if (!line.startsWith('{')) return undefined
  let o: Record<string, unknown>
  try {
    o = JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
  const time = typeof o['time'] === 'string' ? Date.parse(o['time']) : typeof o['time'] === 'number' ? o['time'] : NaN
  const e: WorkerLogLine = {
    worker: worker.id,
    pid: worker.pid,
    spawnedAt: worker.startedAt,
    t: Number.isFinite(time) ? time : arrived,
    event: typeof o['event'] === 'string' ? o['event'] : ''
  }
  if (typeof o['partition'] === 'number') e.partition = o['partition']
  if (typeof o['offset'] === 'string' || typeof o['offset'] === 'number') e.offset = Number(o['offset'])
  if (Array.isArray(o['partitions'])) e.partitions = o['partitions'] as number[]
  if (typeof o['generationId'] === 'number') e.generationId = o['generationId']
  if (typeof o['waitedMs'] === 'number') e.waitedMs = o['waitedMs']
  if (typeof o['value'] === 'string') e.value = o['value']
  if (typeof o['level'] === 'number') e.level = o['level']
  if (typeof o['msg'] === 'string') e.msg = o['msg']
  return e
}
