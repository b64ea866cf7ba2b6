/**
 * The arithmetic of `npm run bench:scale`, on what ScaleRecorder and BrokerLogTail recorded.
 * Pure: no I/O, no clocks.
 */
import { median } from './report.ts'
import type { GroupLogEvent, ScaleRecorder, ScalerLine, WorkerLine } from './scale-events.ts'

/** One try at one record by one worker: its START line, and its END line if it finished. */
export interface Attempt {
  worker: string
  partition: number
  offset: number
  start: number
  end?: number
}

/** Every START/END pair of every worker, in START order. */
export function attempts(lines: readonly WorkerLine[]): Attempt[] {
  const open = new Map<string, Attempt>()
  const all: Attempt[] = []
  for (const l of [...lines].sort((a, b) => a.t - b.t)) {
    if (l.partition === undefined || l.offset === undefined) continue
    const key = `${l.worker}\u0000${l.partition}\u0000${l.offset}`
    if (l.event === 'START') {
      const a: Attempt = { worker: l.worker, partition: l.partition, offset: l.offset, start: l.t }
      open.set(key, a)
      all.push(a)
    } else if (l.event === 'END') {
      const a = open.get(key)
      if (a) {
        a.end = l.t
        open.delete(key)
      }
    }
  }
  return all.sort((a, b) => a.start - b.start)
}

/**
 * Per partition, the attempt that counts for each offset: the last one started. A record the
 * rebalance took away mid-work (revoked-mid-record: finished but not committed) is redone by the
 * partition's new owner, and only the redo moved the partition on.
 */
export function effectiveByPartition(all: readonly Attempt[]): Map<number, Attempt[]> {
  const byKey = new Map<string, Attempt>()
  for (const a of all) {
    const key = `${a.partition}\u0000${a.offset}`
    const seen = byKey.get(key)
    if (!seen || a.start >= seen.start) byKey.set(key, a)
  }
  const out = new Map<number, Attempt[]>()
  for (const a of byKey.values()) {
    let list = out.get(a.partition)
    if (!list) {
      list = []
      out.set(a.partition, list)
    }
    list.push(a)
  }
  for (const list of out.values()) list.sort((a, b) => a.offset - b.offset)
  return out
}

/** END -> next START of the same worker, for consecutive attempts inside [from, to). */
function workerGaps(all: readonly Attempt[], from: number, to: number): number[] {
  const gaps: number[] = []
  const byWorker = new Map<string, Attempt[]>()
  for (const a of all) {
    if (a.start < from || a.start >= to) continue
    const list = byWorker.get(a.worker) ?? []
    list.push(a)
    byWorker.set(a.worker, list)
  }
  for (const list of byWorker.values()) {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!
      if (prev.end !== undefined && prev.end < to) gaps.push(list[i]!.start - prev.end)
    }
  }
  return gaps
}

// ---------------------------------------------------------------------------------------------
// Reaction: lag appeared -> a new consumer processes its first record

export interface Tick {
  /** The tick's start (its observation's time). */
  at: number
  /** When its snapshot was emitted (tick done). */
  doneAt: number
  action: string
  from: number
  desired: number
}

export interface ReactionTimes {
  ackAt: number
  /** Start of the tick whose decision scaled out. */
  tickAt: number | undefined
  /** The first worker spawned or promoted after the produce: the loop called scaleTo. */
  decidedAt: number
  decision: { from: number; desired: number } | undefined
  /** Workers the decision spawned (they start at the same time, on the same cores). */
  spawnedTogether: number
  /** The new consumer that processed a record first. */
  worker: string
  spawnedAt: number
  /** When the pool promoted it, if it was a warm standby (its Node and modules were loaded before). */
  promotedAt: number | undefined
  nodeUpAt: number | undefined
  firstConnectAt: number | undefined
  /** Its first JoinGroup, as the broker logged it. */
  joinAt: number | undefined
  /** Its first non-empty assignment (its own log). */
  assignedAt: number | undefined
  firstStartAt: number
  /** Rebalances the group went through between the produce and that record. */
  rebalances: number
}

/** Milliseconds of each part; parts that could not be stamped are undefined. */
export interface ReactionParts {
  total: number
  lagToDecision: number
  waitForTick: number | undefined
  observeAndDecide: number | undefined
  decisionToSpawn: number
  spawnToJoin: number | undefined
  nodeStart: number | undefined
  loadModules: number | undefined
  connectAndJoin: number | undefined
  joinToAssigned: number | undefined
  assignedToFirstRecord: number | undefined
}

export function reactionTimes(
  rec: ScaleRecorder,
  groupEvents: readonly GroupLogEvent[],
  ackAt: number,
  ticks: readonly Tick[],
  firstWorker: string
): ReactionTimes | undefined {
  const start = rec.workers
    .filter((l) => l.event === 'START' && l.worker !== firstWorker && l.t >= ackAt)
    .sort((a, b) => a.t - b.t)[0]
  if (!start) return undefined
  const worker = start.worker
  const spawns = rec.scaler.filter(
    (l) => (l.event === 'worker-spawned' || l.event === 'worker-promoted') && l.t >= ackAt
  )
  const promotedAt = rec.scaler.find((l) => l.event === 'worker-promoted' && l.worker === worker && l.t >= ackAt)?.t
  const decidedAt = spawns[0]?.t ?? promotedAt ?? start.spawnedAt
  const decisionLine: ScalerLine | undefined = rec.scaler.find(
    (l) => l.event === 'decision' && l.t >= decidedAt && l.action === 'scale-out'
  )
  const tick = ticks.find((t) => t.action === 'scale-out' && t.doneAt >= decidedAt)
  const first = (event: string) => rec.of(worker, event)[0]?.t
  const assigned = rec.of(worker, 'assigned').find((l) => (l.partitions?.length ?? 0) > 0)
  return {
    ackAt,
    tickAt: tick?.at,
    decidedAt,
    decision:
      decisionLine?.from !== undefined && decisionLine.desired !== undefined
        ? { from: decisionLine.from, desired: decisionLine.desired }
        : undefined,
    spawnedTogether: spawns.filter((l) => l.t - decidedAt < 1000).length,
    worker,
    spawnedAt: start.spawnedAt,
    promotedAt,
    nodeUpAt: promotedAt === undefined ? first('bench:node-up') : undefined,
    firstConnectAt: promotedAt === undefined ? first('bench:first-connect') : undefined,
    joinAt: groupEvents.find((e) => e.kind === 'join' && e.worker === worker)?.t,
    assignedAt: assigned?.t,
    firstStartAt: start.t,
    rebalances: groupEvents.filter((e) => e.kind === 'prepare' && e.t >= ackAt && e.t <= start.t).length
  }
}

const diff = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : a - b

export function reactionParts(r: ReactionTimes): ReactionParts {
  return {
    total: r.firstStartAt - r.ackAt,
    lagToDecision: r.decidedAt - r.ackAt,
    waitForTick: r.tickAt === undefined ? undefined : Math.max(0, r.tickAt - r.ackAt),
    observeAndDecide: r.tickAt === undefined ? undefined : r.decidedAt - Math.max(r.tickAt, r.ackAt),
    decisionToSpawn: (r.promotedAt ?? r.spawnedAt) - r.decidedAt,
    // For a promoted standby: from its promotion (Node and modules were loaded before).
    spawnToJoin: diff(r.joinAt, r.promotedAt ?? r.spawnedAt),
    nodeStart: diff(r.nodeUpAt, r.spawnedAt),
    loadModules: diff(r.firstConnectAt, r.nodeUpAt),
    connectAndJoin: diff(r.joinAt, r.promotedAt ?? r.firstConnectAt),
    joinToAssigned: diff(r.assignedAt, r.joinAt),
    assignedToFirstRecord: diff(r.firstStartAt, r.assignedAt)
  }
}

// ---------------------------------------------------------------------------------------------
// Pause per rebalance step

export interface StepWindow {
  from: number
  to: number
  /** pool.scaleTo(to) was called. */
  scaleAt: number
  newWorker: string
  /** Steady processing before the step starts here (the previous step's window end). */
  steadyFrom: number
  /** Nothing after this counts for the step. */
  windowEnd: number
}

export interface PartitionPause {
  partition: number
  /** The busy worker that had a record of it in hand (rebalance began / new assignment arrived), and its new owner. */
  before: string
  after: string | undefined
  /**
   * The longest gap between two records of it that counted (the last attempt of each offset: a
   * redo, not the revoked try), from the rebalance's start to its first record under its new owner.
   */
  lastEndAt: number | undefined
  nextStartAt: number | undefined
  gapMs: number
  /** gapMs minus the step's normal gap between records; a lower bound when censored. */
  pauseMs: number
  /** The partition went to another worker. */
  moved: boolean
  /** Records of other partitions its new owner worked on first, after its new assignment, and their time. */
  queuedBehind: number
  queuedMs: number
  /** pauseMs without queuedMs: the part not spent on other partitions' records. */
  pauseExclQueueMs: number
  /** No record of the partition started again before the window ended. */
  censored: boolean
}

export interface WorkerStall {
  worker: string
  /** Longest END -> next START of this worker from the rebalance's start to its first record after its new assignment. */
  gapMs: number
  stallMs: number
  censored: boolean
}

export interface StepResult {
  step: string
  from: number
  to: number
  newWorker: string
  scaleAt: number
  /** The new worker: spawn -> JoinGroup at the broker, and its parts (probe). */
  spawnToJoinMs: number | undefined
  nodeStartMs: number | undefined
  loadModulesMs: number | undefined
  connectAndJoinMs: number | undefined
  /** Broker: 'Preparing to rebalance' (first) -> every member logged its final assignment. */
  rebalanceMs: number | undefined
  /** Broker: prepare -> 'Stabilized' (every member rejoined), stabilized -> last member assigned. */
  rejoinMs: number | undefined
  syncMs: number | undefined
  /** Per old member: prepare -> its heartbeat learned of the rebalance (its 'rebalance' line). */
  noticedMs: number[]
  rebalances: number
  generation: number | undefined
  /** The new worker: its assignment -> its first START. */
  newWorkerFirstRecordMs: number | undefined
  /** Median END -> next START of the same worker in steady processing before the step. */
  normalGapMs: number
  partitions: PartitionPause[]
  workers: WorkerStall[]
  /** Records started again by another worker (a revoked or duplicated try), and the work of the earlier tries. */
  redone: { records: number; wastedMs: number }
  /** Records finished by the old owner after the partition moved and committed for the new one (handoff), and the new owners' waits. */
  handedOff: { records: number; waitsMs: number[] }
  pause: { maxMs: number; medianMs: number }
  /** The same without the time new owners spent on other partitions' records first. */
  pauseExclQueue: { maxMs: number; medianMs: number }
  stall: { maxMs: number; medianMs: number }
}

export function analyzeStep(
  rec: ScaleRecorder,
  groupEvents: readonly GroupLogEvent[],
  w: StepWindow
): StepResult | { error: string } {
  const inWindow = (t: number) => t >= w.scaleAt && t <= w.windowEnd
  const prepares = groupEvents.filter((e) => e.kind === 'prepare' && inWindow(e.t))
  const rStart = prepares[0]?.t
  if (rStart === undefined) return { error: `no rebalance of the group in the step ${w.from} -> ${w.to}` }
  const stabilized = groupEvents.filter((e) => e.kind === 'stabilized' && e.t >= rStart && e.t <= w.windowEnd)
  const generation = stabilized.at(-1)?.generation
  const finalAssigned = rec.workers.filter(
    (l) => l.event === 'assigned' && l.generationId === generation && l.t <= w.windowEnd
  )
  const rEnd = finalAssigned.length > 0 ? Math.max(...finalAssigned.map((l) => l.t)) : undefined
  const all = attempts(rec.workers.filter((l) => l.t <= w.windowEnd))
  const normalGapMs = median(workerGaps(all, w.steadyFrom, rStart)) || 0

  // The new worker's start-up and first record.
  const nw = w.newWorker
  const first = (event: string) => rec.of(nw, event)[0]?.t
  const spawnedAt =
    rec.of(nw)[0]?.spawnedAt ?? rec.scaler.find((l) => l.event === 'worker-spawned' && l.worker === nw)?.t
  const joinAt = groupEvents.find((e) => e.kind === 'join' && e.worker === nw)?.t
  const nwAssigned = rec.of(nw, 'assigned').find((l) => (l.partitions?.length ?? 0) > 0)?.t
  const nwFirst = rec.of(nw, 'START')[0]?.t

  // Old members: spawned before the step and working just before the rebalance.
  const oldWorkers = [...new Set(all.filter((a) => a.start >= w.steadyFrom && a.start < rStart).map((a) => a.worker))]
    .filter((id) => id !== nw)
    .sort()
  const effective = effectiveByPartition(all)
  const assignedAtOf = (worker: string) =>
    rec.of(worker, 'assigned').find((l) => l.generationId === generation && l.t >= rStart && l.t <= w.windowEnd)?.t
  // The partitions the busy workers had in hand: when the rebalance began, and when their new assignment arrived
  // (the client rejoins in the background, so a worker goes on with its records in between).
  const inHand = new Map<number, Attempt>()
  for (const worker of oldWorkers) {
    const mine = all.filter((a) => a.worker === worker)
    const atStart = mine.filter((a) => a.start < rStart).at(-1)
    const assignedAt = assignedAtOf(worker)
    const atAssignment = assignedAt === undefined ? undefined : mine.filter((a) => a.start < assignedAt).at(-1)
    for (const a of [atStart, atAssignment]) if (a && !inHand.has(a.partition)) inHand.set(a.partition, a)
  }
  const partitions: PartitionPause[] = []
  for (const [p, held] of [...inHand].sort((a, b) => a[0] - b[0])) {
    const worker = held.worker
    const list = effective.get(p) ?? []
    // Its owner in the new generation, and the first record that counted under that owner.
    const owner = rec.workers.find(
      (l) => l.event === 'assigned' && l.generationId === generation && (l.partitions ?? []).includes(p)
    )?.worker
    const ownerAssignedAt = owner === undefined ? undefined : assignedAtOf(owner)
    const resume =
      ownerAssignedAt === undefined
        ? undefined
        : list.find((a) => a.worker === owner && a.start >= ownerAssignedAt && a.start <= w.windowEnd)
    if (resume && owner !== undefined && ownerAssignedAt !== undefined) {
      // The longest gap between two records that counted, from the record in hand to that record.
      let worst: { prev: Attempt; next: Attempt } | undefined
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1]!
        const next = list[i]!
        if (prev.offset < held.offset || prev.end === undefined) continue
        if (next.offset > resume.offset) break
        if (!worst || next.start - prev.end > worst.next.start - worst.prev.end!) worst = { prev, next }
      }
      const gapMs = worst ? worst.next.start - worst.prev.end! : 0
      const pauseMs = Math.max(0, gapMs - normalGapMs)
      // Records of other partitions its new owner worked on first, inside that gap.
      const queued = worst
        ? all.filter(
            (a) =>
              a.worker === owner &&
              a.partition !== p &&
              a.start >= Math.max(ownerAssignedAt, worst.prev.end!) &&
              a.start < worst.next.start
          )
        : []
      const queuedMs = queued.reduce((sum, a) => sum + ((a.end ?? resume.start) - a.start), 0)
      partitions.push({
        partition: p,
        before: worker,
        after: owner,
        lastEndAt: worst?.prev.end,
        nextStartAt: worst?.next.start,
        gapMs,
        pauseMs,
        moved: owner !== worker,
        queuedBehind: queued.length,
        queuedMs,
        pauseExclQueueMs: Math.max(0, pauseMs - queuedMs),
        censored: false
      })
    } else {
      const lastEndAt = list
        .filter((a) => a.offset >= held.offset && a.end !== undefined && a.end <= w.windowEnd)
        .map((a) => a.end!)
        .reduce((m, t) => Math.max(m, t), Number.NEGATIVE_INFINITY)
      const from = Number.isFinite(lastEndAt) ? lastEndAt : rStart
      const pauseMs = Math.max(0, w.windowEnd - from - normalGapMs)
      const queued =
        owner === undefined || ownerAssignedAt === undefined
          ? []
          : all.filter(
              (a) =>
                a.worker === owner &&
                a.partition !== p &&
                a.start >= Math.max(ownerAssignedAt, from) &&
                a.start < w.windowEnd
            )
      const queuedMs = queued.reduce((sum, a) => sum + (Math.min(a.end ?? w.windowEnd, w.windowEnd) - a.start), 0)
      partitions.push({
        partition: p,
        before: worker,
        after: owner,
        lastEndAt: Number.isFinite(lastEndAt) ? lastEndAt : undefined,
        nextStartAt: undefined,
        gapMs: w.windowEnd - from,
        pauseMs,
        moved: owner !== worker,
        queuedBehind: queued.length,
        queuedMs,
        pauseExclQueueMs: Math.max(0, pauseMs - queuedMs),
        censored: true
      })
    }
  }
  const workers: WorkerStall[] = []
  for (const worker of oldWorkers) {
    const mine = all.filter((a) => a.worker === worker)
    // Worker stall: its longest idle stretch from the rebalance's start to its first record after its new assignment.
    const assignedAt = assignedAtOf(worker)
    const resume = assignedAt === undefined ? undefined : mine.find((a) => a.start >= assignedAt)
    let gapMs = 0
    for (let i = 1; i < mine.length; i++) {
      const prev = mine[i - 1]!
      const cur = mine[i]!
      if (prev.end === undefined || cur.start < rStart) continue
      if (resume && cur.start > resume.start) break
      gapMs = Math.max(gapMs, cur.start - prev.end)
    }
    const censored = resume === undefined
    if (censored) {
      const lastEnd = mine.filter((a) => a.end !== undefined).at(-1)?.end ?? rStart
      gapMs = Math.max(gapMs, w.windowEnd - lastEnd)
    }
    workers.push({ worker, gapMs, stallMs: Math.max(0, gapMs - normalGapMs), censored })
  }

  // Records started more than once (by the old owner and again by the new one): every try but the last was lost work.
  let redoneRecords = 0
  let wastedMs = 0
  const tries = new Map<string, Attempt[]>()
  for (const a of all) {
    if (a.start < w.scaleAt - 60_000) continue
    const key = `${a.partition}\u0000${a.offset}`
    tries.set(key, [...(tries.get(key) ?? []), a])
  }
  for (const list of tries.values()) {
    if (list.length < 2 || !inWindow(list.at(-1)!.start)) continue
    for (const a of list.slice(0, -1)) {
      redoneRecords++
      wastedMs += (a.end ?? list.at(-1)!.start) - a.start
    }
  }
  const handedOff = {
    records: rec.workers.filter((l) => l.event === 'handed-off' && inWindow(l.t)).length,
    waitsMs: rec.workers.filter((l) => l.event === 'handoff' && inWindow(l.t)).map((l) => l.waitedMs ?? 0)
  }
  const pauses = partitions.map((p) => p.pauseMs)
  const pausesExcl = partitions.map((p) => p.pauseExclQueueMs)
  const stalls = workers.map((s) => s.stallMs)
  const noticedMs = rec.workers
    .filter((l) => l.event === 'rebalance' && l.worker !== nw && l.t >= rStart && l.t <= (rEnd ?? w.windowEnd))
    .reduce(
      (firsts, l) => (firsts.has(l.worker) ? firsts : firsts.set(l.worker, l.t - rStart)),
      new Map<string, number>()
    )
  const stable = stabilized.at(-1)?.t
  return {
    step: `${w.from}->${w.to}`,
    from: w.from,
    to: w.to,
    newWorker: nw,
    scaleAt: w.scaleAt,
    spawnToJoinMs: diff(joinAt, spawnedAt),
    nodeStartMs: diff(first('bench:node-up'), spawnedAt),
    loadModulesMs: diff(first('bench:first-connect'), first('bench:node-up')),
    connectAndJoinMs: diff(joinAt, first('bench:first-connect')),
    rebalanceMs: diff(rEnd, rStart),
    rejoinMs: diff(stable, rStart),
    syncMs: diff(rEnd, stable),
    noticedMs: [...noticedMs.values()],
    rebalances: prepares.length,
    generation,
    newWorkerFirstRecordMs: diff(nwFirst, nwAssigned),
    normalGapMs,
    partitions,
    workers,
    redone: { records: redoneRecords, wastedMs },
    handedOff,
    pause: { maxMs: Math.max(0, ...pauses), medianMs: median(pauses) || 0 },
    pauseExclQueue: { maxMs: Math.max(0, ...pausesExcl), medianMs: median(pausesExcl) || 0 },
    stall: { maxMs: Math.max(0, ...stalls), medianMs: median(stalls) || 0 }
  }
}

/** min / median / max of the defined values. */
export function spread(values: readonly (number | undefined)[]): {
  min: number
  median: number
  max: number
  n: number
} {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x))
  if (v.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN, n: 0 }
  return { min: Math.min(...v), median: median(v), max: Math.max(...v), n: v.length }
}
