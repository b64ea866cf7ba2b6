/** Facts derived from a case's result that both reports show. */
import { median } from './calibrate.ts'
import type { CaseResult } from './types.ts'

export interface CaseFacts {
  /** Consumers that were in the group and never finished a record. */
  idle: number
  /** Consumers that were in the group. */
  joined: number
  /** Median spawn -> first assignment of the workers started by scale-outs in this case. */
  startupMs?: number
  /** Per-partition lag (smallest, largest) when half the records were done: the skew. */
  skewAtHalf?: { min: number; max: number; partitions: number }
  /** The first decision whose reason says the partition cap bound. */
  capReason?: string
}

export function caseFacts(r: CaseResult): CaseFacts {
  const m = r.measured
  const members = m.consumers.filter((c) => c.joinedMs !== undefined && c.memberMs > 0)
  const facts: CaseFacts = {
    idle: members.filter((c) => c.records === 0).length,
    joined: members.length
  }
  const startups = m.consumers
    .filter((c) => c.spawnedMs > 0 && c.joinedMs !== undefined)
    .map((c) => c.joinedMs! - c.spawnedMs)
  const startup = median(startups)
  if (startup !== undefined) facts.startupMs = startup
  const half = m.lag.find((p) => p.t >= r.producedAtMs && p.sum <= m.records / 2)
  if (half && half.lag.length > 1) {
    facts.skewAtHalf = { min: Math.min(...half.lag), max: Math.max(...half.lag), partitions: half.lag.length }
  }
  const capped = m.decisions.find((d) => /capped at/.test(d.reason))
  if (capped) facts.capReason = capped.reason
  return facts
}

export const sec = (ms: number | undefined, digits = 1): string =>
  ms === undefined ? '-' : `${(ms / 1000).toFixed(digits)} s`

export const pct = (x: number | undefined): string =>
  x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(Math.abs(x) < 10 ? 1 : 0)} %`
