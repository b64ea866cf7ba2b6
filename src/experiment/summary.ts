/** Facts derived from a case's result that both reports show. */
import { median } from './stats.ts'
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
  /**
   * When the first scale-out's workers joined: per-partition lag (smallest, largest, partitions
   * never touched yet), measured and in the simulation at its last tick before its own join.
   */
  atJoin?: { real: Spread; sim?: Spread }
}

export interface Spread {
  min: number
  max: number
  untouched: number
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
  const initial = m.lag.find((p) => p.t >= r.producedAtMs && p.sum > 0)?.lag
  const spread = (lag: number[] | undefined): Spread | undefined =>
    lag && initial && lag.length > 1
      ? {
          min: Math.min(...lag),
          max: Math.max(...lag),
          untouched: lag.filter((v, i) => v > 0 && v === initial[i]).length
        }
      : undefined
  const joins = m.consumers.filter((c) => c.spawnedMs > 0 && c.joinedMs !== undefined).map((c) => c.joinedMs!)
  if (joins.length > 0) {
    const at = Math.min(...joins)
    const real = spread(m.lag.filter((p) => p.t <= at).at(-1)?.lag)
    const simJoins = r.predicted.consumers.filter((c) => c.requestedMs > 0 && c.joinedMs !== undefined)
    const simAt = simJoins.length > 0 ? Math.min(...simJoins.map((c) => c.joinedMs!)) : undefined
    const sim = simAt === undefined ? undefined : spread(r.predicted.lag.filter((p) => p.t <= simAt).at(-1)?.lag)
    if (real) facts.atJoin = { real, ...(sim ? { sim } : {}) }
  }
  return facts
}

export const sec = (ms: number | undefined, digits = 1): string =>
  ms === undefined ? '-' : `${(ms / 1000).toFixed(digits)} s`

export const pct = (x: number | undefined): string =>
  x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(Math.abs(x) < 10 ? 1 : 0)} %`
