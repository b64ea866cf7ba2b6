/**
 * From what a case recorded (worker log lines, pool and loop lines, snapshots) to what it
 * measured: drain time, consumers over time, per-consumer records and busy time, per-partition
 * lag over time, consumer-seconds, rebalances and their pauses. Pure: the same recording gives
 * the same numbers, so the definitions here are the experiment's definitions (docs/experiment.md).
 */
import type { CaseRecorder, WorkerEvent } from './recorder.ts'
import type {
  CaseSpec,
  ConsumerStats,
  ConsumersPoint,
  ExperimentTiming,
  LagPoint,
  LowerBound,
  Measured,
  RebalanceStats
} from './types.ts'

/** The records a case produced: value and partition of record i, in production order. */
export interface CaseLoad {
  values: number[]
  partitions: number[]
  partitionCount: number
}

export interface AnalyzeInput {
  recorder: Pick<CaseRecorder, 'workers' | 'scaler' | 'snapshots'>
  load: CaseLoad
  workUnitMs: number
  /** Epoch ms: t = 0 (the tick before the load). */
  origin: number
  /** Epoch ms: the produce request was sent. */
  producedAt: number
  /** Epoch ms: the case ended. */
  end: number
  endReason: Measured['endReason']
}

interface Life {
  id: string
  spawned: number
  joined?: number
  stopRequested?: number
  left?: number
  partitions: Set<number>
  intervals: [number, number][]
  workMs: number
  records: number
}

export function analyzeCase(input: AnalyzeInput): Measured {
  const { recorder, load, origin, producedAt, end } = input
  const rel = (t: number) => t - origin
  const workers = [...recorder.workers].sort((a, b) => a.t - b.t)

  // --- records: first finish of each, redone ones, per-worker busy intervals ---------------------
  const finishedAt = new Map<string, number>()
  let redone = 0
  const lives = new Map<string, Life>()
  const life = (e: { worker: string; spawnedAt: number }): Life => {
    let l = lives.get(e.worker)
    if (!l) {
      l = { id: e.worker, spawned: e.spawnedAt, partitions: new Set(), intervals: [], workMs: 0, records: 0 }
      lives.set(e.worker, l)
    }
    return l
  }
  const running = new Map<string, number>()
  for (const e of workers) {
    const l = life(e)
    const key = `${e.worker}/${e.partition}:${e.offset}`
    if (e.event === 'assigned') {
      l.joined ??= e.t
      for (const p of e.partitions ?? []) l.partitions.add(p)
    } else if (e.event === 'stopping') l.stopRequested ??= e.t
    else if (e.event === 'stopped') l.left ??= e.t
    else if (e.event === 'START') running.set(key, e.t)
    else if (e.event === 'END') {
      const started = running.get(key) ?? e.t
      running.delete(key)
      l.intervals.push([started, e.t])
      l.workMs += e.t - started
      l.records++
      const record = `${e.partition}:${e.offset}`
      if (finishedAt.has(record)) redone++
      else finishedAt.set(record, e.t)
    }
  }
  // The pool's lines: a worker that exited without its 'stopped' line (killed, died).
  for (const e of recorder.scaler) {
    if (!e.worker || (e.event !== 'worker-stopped' && e.event !== 'worker-died')) continue
    const l = lives.get(e.worker)
    if (l) l.left ??= e.t
  }
  // A record started and never finished (abandoned): busy until its worker left.
  for (const [key, started] of running) {
    const l = lives.get(key.slice(0, key.indexOf('/')))
    if (l) l.intervals.push([started, l.left ?? end])
  }

  const drainedAt = finishedAt.size === load.values.length ? Math.max(...finishedAt.values()) : undefined

  // --- consumers ------------------------------------------------------------------------------
  const consumers: ConsumerStats[] = [...lives.values()]
    .filter((l) => (l.left ?? end) >= origin && l.spawned <= end)
    .sort((a, b) => a.spawned - b.spawned || a.id.localeCompare(b.id, 'en', { numeric: true }))
    .map((l) => {
      const until = Math.min(l.left ?? end, end)
      const from = Math.max(l.spawned, origin)
      const joined = l.joined === undefined ? undefined : Math.max(l.joined, origin)
      const memberMs = joined === undefined ? 0 : Math.max(0, until - joined)
      const busyMs = Math.min(memberMs, unionMs(l.intervals, joined ?? from, until))
      const stats: ConsumerStats = {
        id: l.id,
        spawnedMs: rel(l.spawned),
        lifetimeMs: Math.max(0, until - from),
        memberMs,
        busyMs,
        idleMs: memberMs - busyMs,
        workMs: l.workMs,
        records: l.records,
        partitions: [...l.partitions].sort((a, b) => a - b)
      }
      if (l.joined !== undefined) stats.joinedMs = rel(l.joined)
      if (l.stopRequested !== undefined) stats.stopRequestedMs = rel(l.stopRequested)
      if (l.left !== undefined) stats.leftMs = rel(l.left)
      return stats
    })

  const series = consumersSeries(input, [...lives.values()])
  const peak = {
    desired: Math.max(0, ...series.map((p) => p.desired)),
    running: Math.max(0, ...series.map((p) => p.running))
  }

  // --- lag ------------------------------------------------------------------------------------
  const lag = lagFromLogs(load, finishedAt, origin, producedAt)
  const observedLag: LagPoint[] = recorder.snapshots
    .filter((s) => s.at >= origin && s.at <= end && s.snapshot.observation && !s.snapshot.observation.stale)
    .map((s) => {
      const partitions = s.snapshot.observation!.partitions.map((p) => p.lag)
      return { t: rel(s.at), lag: partitions, sum: partitions.reduce((a, b) => a + b, 0) }
    })
  const zero =
    drainedAt === undefined
      ? undefined
      : recorder.snapshots.find(
          (s) =>
            s.at >= drainedAt && s.snapshot.observation?.stale === false && s.snapshot.observation.sumOffsetLag === 0
        )

  // --- decisions ------------------------------------------------------------------------------
  const last = recorder.snapshots.at(-1)?.snapshot
  const decisions = (last?.decisions ?? [])
    .filter((d) => d.at >= origin && d.at <= end)
    .map((d) => ({ t: rel(d.at), action: d.action, from: d.from, desired: d.desired, reason: d.reason }))

  // --- rebalances ------------------------------------------------------------------------------
  const rebalances = rebalanceStats(workers, origin, end)

  const workMs = load.values.reduce((s, v) => s + v * input.workUnitMs, 0)
  const measured: Measured = {
    records: load.values.length,
    finished: finishedAt.size,
    redone,
    workMs,
    consumerSeconds: consumers.reduce((s, c) => s + c.lifetimeMs, 0) / 1000,
    peak,
    rebalances: {
      count: rebalances.length,
      pauseMs: rebalances.reduce((s, r) => s + r.pauseMs, 0),
      log: rebalances.map((r) => ({ ...r, startMs: rel(r.startMs), endMs: rel(r.endMs) }))
    },
    consumers,
    series,
    lag,
    observedLag,
    decisions,
    endMs: rel(end),
    endReason: input.endReason
  }
  if (drainedAt !== undefined) measured.drainMs = drainedAt - producedAt
  if (zero) measured.lagZeroObservedMs = zero.at - producedAt
  return measured
}

/** Total length of the union of the intervals, clipped to [from, to]. */
export function unionMs(intervals: readonly (readonly [number, number])[], from: number, to: number): number {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0])
  let total = 0
  let curStart = Number.NEGATIVE_INFINITY
  let curEnd = Number.NEGATIVE_INFINITY
  for (const [a, b] of clipped) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart
      curStart = a
      curEnd = b
    } else curEnd = Math.max(curEnd, b)
  }
  if (curEnd > curStart) total += curEnd - curStart
  return total
}

/**
 * Step series of desired (what the backend was last asked for, from the loop's snapshots),
 * running (members: first assignment to leaving) and processes (spawn to exit), from the origin.
 */
function consumersSeries(input: AnalyzeInput, lives: Life[]): ConsumersPoint[] {
  const { origin, end } = input
  const changes: { t: number; desired?: number; running?: number; processes?: number }[] = []
  for (const s of input.recorder.snapshots) changes.push({ t: s.t, desired: s.snapshot.status.desired })
  for (const l of lives) {
    changes.push({ t: l.spawned, processes: 1 })
    if (l.left !== undefined) changes.push({ t: l.left, processes: -1 })
    if (l.joined !== undefined) {
      changes.push({ t: l.joined, running: 1 })
      if (l.left !== undefined) changes.push({ t: l.left, running: -1 })
    }
  }
  changes.sort((a, b) => a.t - b.t)
  const points: ConsumersPoint[] = []
  let desired = 0
  let running = 0
  let processes = 0
  const push = (t: number) => {
    const p = { t: Math.max(0, t - origin), desired, running, processes }
    const lastPoint = points.at(-1)
    if (lastPoint && lastPoint.t === p.t) points[points.length - 1] = p
    else if (
      !lastPoint ||
      lastPoint.desired !== p.desired ||
      lastPoint.running !== p.running ||
      lastPoint.processes !== p.processes
    ) {
      points.push(p)
    }
  }
  let started = false
  for (const c of changes) {
    if (c.t > end) break
    if (c.t >= origin && !started) {
      // The state at the origin, from every change before it.
      started = true
      push(origin)
    }
    if (c.desired !== undefined) desired = c.desired
    if (c.running !== undefined) running += c.running
    if (c.processes !== undefined) processes += c.processes
    if (c.t >= origin) push(c.t)
  }
  if (!started) push(origin)
  return points
}

/**
 * Per-partition lag from the workers' END lines: the committed offset is the watermark (the
 * lowest offset not finished), so a partition's lag is its records minus its watermark. One
 * point at the production and one at every change.
 */
function lagFromLogs(load: CaseLoad, finishedAt: Map<string, number>, origin: number, producedAt: number): LagPoint[] {
  const n = load.partitionCount
  const sizes = new Array<number>(n).fill(0)
  for (const p of load.partitions) sizes[p]!++
  const done = Array.from({ length: n }, (_, p) => new Uint8Array(sizes[p]!))
  const watermark = new Array<number>(n).fill(0)
  const ends = [...finishedAt.entries()]
    .map(([key, t]) => {
      const [p, o] = key.split(':').map(Number) as [number, number]
      return { p, o, t }
    })
    .filter((e) => e.p < n && e.o < sizes[e.p]!)
    .sort((a, b) => a.t - b.t)
  const points: LagPoint[] = [{ t: 0, lag: new Array<number>(n).fill(0), sum: 0 }]
  const current = [...sizes]
  points.push({ t: producedAt - origin, lag: [...current], sum: current.reduce((a, b) => a + b, 0) })
  for (const e of ends) {
    done[e.p]![e.o] = 1
    let w = watermark[e.p]!
    while (w < sizes[e.p]! && done[e.p]![w]) w++
    if (w === watermark[e.p]) continue
    watermark[e.p] = w
    current[e.p] = sizes[e.p]! - w
    const point = { t: Math.max(e.t, producedAt) - origin, lag: [...current], sum: current.reduce((a, b) => a + b, 0) }
    if (points.at(-1)!.t === point.t) points[points.length - 1] = point
    else points.push(point)
  }
  return points
}

/**
 * The group's generations after the origin, from the workers' 'assigned' lines. A rebalance
 * starts when the first member logs 'rebalance' (it learned from a heartbeat that the group is
 * rejoining) after the previous generation was complete, or at its first 'assigned' line if
 * nobody logged one (a group that was empty); it ends when the last member of the new
 * generation logged its assignment. Its pause is that span: no partition changes hands meanwhile.
 */
function rebalanceStats(workers: WorkerEvent[], origin: number, end: number): RebalanceStats[] {
  const generations = new Map<number, WorkerEvent[]>()
  for (const e of workers) {
    if (e.event !== 'assigned' || e.generationId === undefined) continue
    const list = generations.get(e.generationId) ?? []
    list.push(e)
    generations.set(e.generationId, list)
  }
  const sorted = [...generations.entries()].sort((a, b) => a[0] - b[0])
  const rebalanceLines = workers.filter((e) => e.event === 'rebalance')
  const out: RebalanceStats[] = []
  let previousEnd = Number.NEGATIVE_INFINITY
  for (const [generation, lines] of sorted) {
    const first = Math.min(...lines.map((l) => l.t))
    const last = Math.max(...lines.map((l) => l.t))
    const told = rebalanceLines.find((e) => e.t > previousEnd && e.t <= first)
    const start = told ? told.t : first
    previousEnd = last
    if (first < origin || first > end) continue
    out.push({
      generation,
      startMs: start,
      endMs: last,
      pauseMs: last - start,
      members: new Set(lines.map((l) => l.worker)).size
    })
  }
  return out
}

/**
 * The physical lower bound of a case's drain time: no schedule beats the longest record, the
 * heaviest partition (its records run one after another unless the ordering lets them overlap)
 * or the total work spread over every consumer slot the partitions allow; and reaching that
 * parallelism from the one consumer running at the start takes at least one autoscaler interval
 * to notice. Start-up and rebalances are left out: they are what a policy and a platform add.
 */
export function lowerBound(spec: CaseSpec, load: CaseLoad, timing: ExperimentTiming): LowerBound {
  const w = timing.workUnitMs
  const workMs = load.values.reduce((s, v) => s + v * w, 0)
  const longestRecordMs = load.values.reduce((m, v) => Math.max(m, v * w), 0)
  const ordered = spec.ordering !== 'unordered'
  const c = spec.concurrency
  const usableParallelism = ordered
    ? Math.min(spec.partitions, timing.max * c)
    : Math.min(timing.max, spec.partitions) * c
  const initialParallelism = ordered ? Math.min(spec.partitions, c) : c
  const detectionMs = usableParallelism > initialParallelism ? timing.intervalMs : 0
  let heaviestPartitionMs: number | undefined
  if (ordered) {
    const perPartition = new Array<number>(spec.partitions).fill(0)
    load.values.forEach((v, i) => {
      perPartition[load.partitions[i]!]! += v * w
    })
    heaviestPartitionMs = Math.max(...perPartition)
  }
  const ms = Math.max(longestRecordMs, heaviestPartitionMs ?? 0, workMs / usableParallelism) + detectionMs
  const bound: LowerBound = { ms, longestRecordMs, usableParallelism, workMs, detectionMs }
  if (heaviestPartitionMs !== undefined) bound.heaviestPartitionMs = heaviestPartitionMs
  return bound
}
