/**
 * Are the consumers the backend runs in the group, and consuming? Two rules, pure, over the
 * lag history (no I/O, unit-tested without a broker):
 *
 * - missing: fewer of them in the group than the backend runs, for longer than a grace that a
 *   normal start, join or rebalance never takes;
 * - stalled (Burrow's rule): a partition whose committed offset has not moved over a whole
 *   window while its lag stayed above 0 - nobody is getting its records done.
 *
 * Only fresh evidence counts: stale observations (Kafka unreachable) restart both clocks, so
 * a broker outage is not blamed on the consumers; a rebalance under way gives no verdict;
 * and the clocks restart after every change the autoscaler makes (a scale, a replacement),
 * because the rebalance that follows pauses consumption on its own.
 */
import { count, formatDuration, formatRecords } from './policy/format.ts'
import type {
  ConsumerHealth,
  ExpectedMember,
  MissingConsumers,
  Observation,
  PartitionObservation,
  StalledPartition
} from './types.ts'

export interface HealthOptions {
  /**
   * How long a consumer the backend runs may be out of the group before it counts as missing:
   * a cold start and a join, or a rebalance, must fit in it. Default 45 s: the workers'
   * rebalance timeout (max(session timeout 10 s, 30 s), the longest a rebalance waits for
   * members) plus ~15 s for a worker process to start on a loaded machine (docs/benchmarks.md).
   */
  memberGraceMs: number
  /**
   * How long a partition's committed offset may stand still with lag before it counts as
   * stalled. Must be longer than the longest record's work (the seed's: 10 units x 1 s) plus a
   * handoff wait. Default 60 s.
   */
  stallWindowMs: number
}

export const HEALTH_DEFAULTS: HealthOptions = { memberGraceMs: 45_000, stallWindowMs: 60_000 }

/** Group states in which membership and assignments are in flux (classic and KIP-848 groups). */
const REBALANCING = new Set(['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling'])

export interface HealthInput {
  /** Observations, oldest first (the autoscaler's history); the newest is judged. */
  history: readonly Observation[]
  /** Consumers the backend runs now. */
  running: number
  /** The same consumers by client id, when the backend knows them. */
  expectedMembers?: readonly ExpectedMember[]
  /** Epoch ms of the autoscaler's last change (scale or replacement): older evidence does not count. */
  lastChangeAt?: number
  options: HealthOptions
}

/** The health verdict for the newest observation. Pure. */
export function assessHealth(input: HealthInput): ConsumerHealth {
  const newest = input.history.at(-1)
  const at = newest?.at ?? 0
  if (!newest) return { at, pending: 'no lag data yet', stalled: [], problems: [] }
  if (newest.stale) return { at, pending: 'the lag data is stale', stalled: [], problems: [] }
  if (REBALANCING.has(newest.groupState)) {
    return { at, pending: `the group is rebalancing (${newest.groupState})`, stalled: [], problems: [] }
  }
  const evidence = freshEvidence(input.history, input.lastChangeAt)
  const settled = evidence.filter((o) => !REBALANCING.has(o.groupState))
  const missing =
    input.running > 0
      ? input.expectedMembers
        ? missingById(settled, input.expectedMembers, input.running, input.options.memberGraceMs)
        : missingByCount(settled, input.running, input.options.memberGraceMs)
      : undefined
  const stalled = input.running > 0 ? stalledPartitions(evidence, input.options.stallWindowMs) : []
  const problems: string[] = []
  if (missing) problems.push(describeMissing(missing, newest))
  problems.push(...describeStalled(stalled, newest.topics))
  return { at, ...(missing ? { missing } : {}), stalled, problems }
}

/** The good observations since the last stale one and after the last change, oldest first. */
function freshEvidence(history: readonly Observation[], lastChangeAt: number | undefined): Observation[] {
  const out: Observation[] = []
  for (let i = history.length - 1; i >= 0; i--) {
    const o = history[i]!
    // The observation a change was decided on was taken before the change: it does not count either.
    if (o.stale || (lastChangeAt !== undefined && o.at <= lastChangeAt)) break
    out.push(o)
  }
  return out.reverse()
}

function missingById(
  settled: Observation[],
  expected: readonly ExpectedMember[],
  running: number,
  graceMs: number
): MissingConsumers | undefined {
  const newest = settled.at(-1)
  if (!newest) return undefined
  const flagged: { clientId: string; forMs: number }[] = []
  for (const e of expected) {
    let firstAbsent: number | undefined
    for (let i = settled.length - 1; i >= 0; i--) {
      const o = settled[i]!
      if (o.at < e.since || o.members.some((m) => m.clientId === e.clientId)) break
      firstAbsent = o.at
    }
    if (firstAbsent === undefined) continue
    const forMs = newest.at - firstAbsent
    if (forMs >= graceMs) flagged.push({ clientId: e.clientId, forMs })
  }
  if (flagged.length === 0) return undefined
  return {
    count: flagged.length,
    running,
    clientIds: flagged.map((f) => f.clientId).sort(byNumberedName),
    forMs: Math.min(...flagged.map((f) => f.forMs))
  }
}

/** Without client ids (ECS): the members counted against what runs. */
function missingByCount(settled: Observation[], running: number, graceMs: number): MissingConsumers | undefined {
  const newest = settled.at(-1)
  if (!newest) return undefined
  let firstShort: number | undefined
  let fewest = Number.POSITIVE_INFINITY
  for (let i = settled.length - 1; i >= 0; i--) {
    const o = settled[i]!
    const short = running - o.members.length
    if (short <= 0) break
    firstShort = o.at
    fewest = Math.min(fewest, short)
  }
  if (firstShort === undefined || newest.at - firstShort < graceMs) return undefined
  return { count: fewest, running, forMs: newest.at - firstShort }
}

function stalledPartitions(evidence: Observation[], windowMs: number): StalledPartition[] {
  const newest = evidence.at(-1)
  if (!newest) return []
  const rowsOf = (p: PartitionObservation): PartitionObservation[] => {
    // Newest first, back while the committed offset stays and the lag stays above 0.
    const rows: PartitionObservation[] = []
    for (let i = evidence.length - 1; i >= 0; i--) {
      const row = evidence[i]!.partitions.find((q) => q.topic === p.topic && q.partition === p.partition)
      if (!row || row.lag <= 0 || row.committedOffset !== p.committedOffset) break
      rows.push(row)
    }
    return rows
  }
  const stalled: StalledPartition[] = []
  for (const p of newest.partitions) {
    if (p.lag <= 0) continue
    const rows = rowsOf(p)
    const first = evidence[evidence.length - rows.length]!
    const forMs = newest.at - first.at
    if (forMs < windowMs) continue
    const owners = new Set(rows.map((r) => r.owner))
    const s: StalledPartition = {
      topic: p.topic,
      partition: p.partition,
      forMs,
      lagBefore: rows.at(-1)!.lag,
      lag: p.lag
    }
    if (p.committedOffset !== undefined) s.committedOffset = p.committedOffset
    if (owners.size === 1 && p.owner !== undefined) s.owner = p.owner
    stalled.push(s)
  }
  return stalled
}

function describeMissing(m: MissingConsumers, newest: Observation): string {
  const who = m.clientIds
    ? ` (${m.clientIds.join(', ')})`
    : ` (group ${newest.groupState}, ${count(newest.members.length, 'member')})`
  const verb = m.count === 1 ? 'is' : 'are'
  return `${m.count} of ${count(m.running, 'consumer')} ${verb} not in the group for ${formatDuration(m.forMs)}${who}`
}

function describeStalled(stalled: StalledPartition[], topics: string[]): string[] {
  const name = (s: StalledPartition): string =>
    topics.length > 1 ? `${s.topic} partition ${s.partition}` : `partition ${s.partition}`
  const lagText = (before: number, now: number): string =>
    now === before
      ? `lag stayed at ${formatRecords(now)}`
      : `lag ${now > before ? 'grew' : 'went'} ${formatRecords(before)} -> ${formatRecords(now)}`
  if (stalled.length <= 2) {
    return stalled.map((s) => {
      const at = s.committedOffset === undefined ? 'nothing committed' : `committed ${s.committedOffset}`
      const owner = s.owner ? `; owner ${s.owner}` : ''
      return `${name(s)} stalled: ${at} for ${formatDuration(s.forMs)} while ${lagText(s.lagBefore, s.lag)}${owner}`
    })
  }
  // The whole group stuck (e.g. nobody in it): one sentence, not one per partition.
  const list = topics.length > 1 ? stalled.map(name).join(', ') : stalled.map((s) => s.partition).join(', ')
  const before = stalled.reduce((n, s) => n + s.lagBefore, 0)
  const now = stalled.reduce((n, s) => n + s.lag, 0)
  const forMs = Math.min(...stalled.map((s) => s.forMs))
  return [
    `${stalled.length} partitions stalled (${topics.length > 1 ? '' : 'partitions '}${list}): committed offsets unchanged for ${formatDuration(forMs)} while their ${lagText(before, now)}`
  ]
}

/** lagscale-worker-2 before lagscale-worker-10. */
function byNumberedName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true })
}

/** What the verdict flags, without the durations that grow every tick: same key, same problem. */
export function healthKey(health: ConsumerHealth): string {
  return JSON.stringify([
    health.missing?.clientIds ?? health.missing?.count ?? 0,
    health.stalled.map((s) => `${s.topic}:${s.partition}@${s.committedOffset ?? '-'}`)
  ])
}
