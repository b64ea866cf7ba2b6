/**
 * The event loop: a consumer group working off a load, scaled by the real policy. Discrete
 * events on a binary heap (produce, record done, consumer loaded, consumer ready, rebalance,
 * pause over, autoscaler tick), so simulated time jumps from one to the next.
 *
 * What is the real code, not a copy: the policy (createPolicy), the observation arithmetic
 * (summarizeObservation: lag, rates, time lag), the partition assignment (assignPartitions),
 * the per-worker record choice (WorkScheduler) and parallelismPerPartition. What is modelled
 * here: the broker (offsets, commits), the group coordinator (joins, leaves, pauses), the local
 * backend (spawn, start-ups sharing the cores, SIGTERM newest first) and the autoscaler loop around the policy (state,
 * cooldown bookkeeping, decision log), mirroring src/autoscaler/autoscaler.ts.
 */
import { summarizeObservation } from '../autoscaler/observation.ts'
import { parallelismPerPartition } from '../autoscaler/parallelism.ts'
import { assignPartitions, type TopicPartition } from '../autoscaler/policy/index.ts'
import type {
  DecisionLogEntry,
  GroupMemberObservation,
  Observation,
  Policy,
  ScalerState,
  ScalingLimits
} from '../autoscaler/types.ts'
import { type Job, WorkScheduler } from '../consumer/scheduler.ts'
import { MinHeap } from './heap.ts'
import type { Load } from './load.ts'
import type { SimOptions } from './options.ts'
import type {
  SimConsumerStats,
  SimConsumersPoint,
  SimDecision,
  SimLagSample,
  SimRebalance,
  SimResult
} from './types.ts'

/** Record states. */
const WAITING = 0
const RUNNING = 1
const DONE = 2

/**
 * Event kinds, in the order they run at the same instant: records appear and finish, consumers
 * join, then the group reacts to every membership change of that instant at once (so consumers
 * started together join one rebalance), then the autoscaler looks.
 */
const PRODUCE = 0
const FINISH = 1
const LOADED = 2
const READY = 3
const REBALANCE = 4
const PAUSE_END = 5
const TICK = 6

interface SimEvent {
  at: number
  kind: number
  seq: number
  consumer?: SimConsumer
  job?: Job<number>
  until?: number
  /** LOADED: the loading generation it was computed for (a later change of who loads makes it stale). */
  version?: number
}

type ConsumerState = 'starting' | 'member' | 'stopping' | 'gone'

interface SimConsumer {
  seq: number
  clientId: string
  memberId: string
  state: ConsumerState
  requestedAt: number
  /** Start-up work still to do on the shared cores (ms at full speed); 0 once loaded. */
  loadLeftMs: number
  joinedAt?: number
  stopRequestedAt?: number
  leftAt?: number
  scheduler: WorkScheduler<number>
  /** Partitions of the current assignment. */
  owned: number[]
  /** Records running now. */
  active: number
  busySince: number
  busyMs: number
  workMs: number
  records: number
}

interface SimPartition {
  index: number
  /** Record ids by offset. */
  ids: number[]
  /** Lowest offset not done: what the worker commits. */
  watermark: number
  /** undefined until a consumer first gets the partition (it then commits the log start, as the worker does). */
  committed?: number
  owner?: SimConsumer
  /** The consumer fetching it and its next offset; reset when the partition changes hands. */
  fetchOwner?: SimConsumer
  fetchPos: number
  /** Records of it running on any consumer. */
  running: number
}

export interface ModelInput {
  options: SimOptions
  load: Load
  policy: Policy
}

export function runModel({ options: o, load, policy }: ModelInput): SimResult {
  return new Model(o, load, policy).run()
}

class Model {
  readonly o: SimOptions
  readonly load: Load
  readonly policy: Policy
  readonly events = new MinHeap<SimEvent>((a, b) =>
    a.at !== b.at ? a.at < b.at : a.kind !== b.kind ? a.kind < b.kind : a.seq < b.seq
  )
  #seq = 0
  now = 0
  readonly partitions: SimPartition[]
  readonly topicPartitions: TopicPartition[]
  readonly state: Uint8Array
  readonly offset: Int32Array
  produced = 0
  done = 0
  readonly consumers: SimConsumer[] = []
  #spawned = 0
  desired = 0
  /** Group: the members of the last assignment, a pause under way, the rebalance of this instant. */
  generation = new Set<SimConsumer>()
  paused = false
  pauseStart = 0
  pausedUntil = 0
  pauseTotal = 0
  /** A REBALANCE event is queued for this instant's membership changes. */
  rebalancePending = false
  readonly rebalanceLog: SimRebalance[] = []
  rebalanceCount = 0
  /** Consumers loading on the shared cores (the first part of a start-up), as of loadUpdatedAt. */
  readonly loading = new Set<SimConsumer>()
  loadUpdatedAt = 0
  loadVersion = 0
  /** Autoscaler. */
  readonly history: Observation[] = []
  scaler: ScalerState = { current: 0 }
  readonly decisions: SimDecision[] = []
  ticks = 0
  readonly series: SimConsumersPoint[] = []
  readonly lag: SimLagSample[] = []
  drainedAt: number | undefined
  endAt: number | undefined
  endReason: SimResult['endReason'] = 'settled'
  truncated = false
  readonly bufferLimit: number

  constructor(o: SimOptions, load: Load, policy: Policy) {
    this.o = o
    this.load = load
    this.policy = policy
    this.partitions = Array.from({ length: o.partitions }, (_, index) => ({
      index,
      ids: [],
      watermark: 0,
      fetchPos: 0,
      running: 0
    }))
    this.topicPartitions = this.partitions.map((p) => ({ topic: o.topic, partition: p.index }))
    this.state = new Uint8Array(load.count)
    this.offset = new Int32Array(load.count)
    // The worker keeps at most max(16, 2 x concurrency) fetched records waiting (worker.ts #maxBuffered).
    this.bufferLimit = Math.max(16, o.concurrency * 2)
  }

  run(): SimResult {
    const o = this.o
    for (let i = 0; i < o.initialConsumers; i++) {
      const c = this.spawn()
      c.state = 'member'
      c.joinedAt = 0
    }
    this.desired = o.initialConsumers
    if (o.initialConsumers > 0) this.assign()
    this.point()
    if (this.load.count > 0) this.schedule({ at: this.load.producedAt[0]!, kind: PRODUCE })
    this.schedule({ at: 0, kind: TICK })
    this.checkEnd()
    while (this.endAt === undefined) {
      const event = this.events.pop()
      // Never empty (the ticks go on), but a run must end.
      if (!event || event.at > o.maxDurationMs) {
        this.now = Math.max(this.now, o.maxDurationMs)
        this.endAt = this.now
        this.endReason = 'max-duration'
        this.truncated = true
        break
      }
      this.now = event.at
      this.handle(event)
      this.checkEnd()
    }
    return this.result()
  }

  schedule(event: Omit<SimEvent, 'seq'>): void {
    this.events.push({ ...event, seq: this.#seq++ })
  }

  handle(e: SimEvent): void {
    if (e.kind === PRODUCE) this.produce()
    else if (e.kind === FINISH) this.finish(e.consumer!, e.job!)
    else if (e.kind === LOADED) this.loaded(e.version!)
    else if (e.kind === READY) this.ready(e.consumer!)
    else if (e.kind === REBALANCE) this.rebalance()
    else if (e.kind === PAUSE_END) this.pauseEnd(e.until!)
    else this.tick()
  }

  // --- the broker: records appear, are worked, committed --------------------------------------

  produce(): void {
    const { producedAt, partition, count } = this.load
    const touched = new Set<SimPartition>()
    while (this.produced < count && producedAt[this.produced]! <= this.now) {
      const id = this.produced++
      const p = this.partitions[partition[id]!]!
      this.offset[id] = p.ids.length
      p.ids.push(id)
      touched.add(p)
    }
    if (this.produced < count) this.schedule({ at: producedAt[this.produced]!, kind: PRODUCE })
    const owners = new Set<SimConsumer>()
    for (const p of touched) if (p.owner) owners.add(p.owner)
    for (const c of owners) this.dispatch(c)
  }

  finish(c: SimConsumer, job: Job<number>): void {
    const id = job.item
    const p = this.partitions[job.partition]!
    c.scheduler.done(job)
    this.state[id] = DONE
    p.running--
    c.active--
    c.records++
    c.workMs += this.workOf(id)
    if (c.active === 0) c.busyMs += this.now - c.busySince
    // The worker commits after the work; with records done out of order, only up to the first not done.
    while (p.watermark < p.ids.length && this.state[p.ids[p.watermark]!] === DONE) p.watermark++
    p.committed = p.watermark
    this.done++
    if (this.done === this.load.count) this.drainedAt = this.now
    if (c.state === 'stopping' && c.active === 0) this.leave(c)
    else this.dispatch(c)
    // A new owner waits for the records the old one still runs (the handoff): they are done now.
    if (p.owner && p.owner !== c) this.dispatch(p.owner)
  }

  workOf(id: number): number {
    return this.load.value[id]! * this.o.workUnitMs
  }

  // --- the workers ------------------------------------------------------------------------------

  /** Starts what the consumer may start now: its WorkScheduler picks, as in the worker. */
  dispatch(c: SimConsumer): void {
    if (c.state !== 'member' || this.paused) return
    for (;;) {
      this.refill(c)
      const jobs = c.scheduler.next()
      if (jobs.length === 0) return
      for (const job of jobs) this.start(c, job)
    }
  }

  /**
   * Fetches records of its partitions into the scheduler, round robin over them, up to the
   * buffer limit. The real worker holds a whole fetch of small records (about 4 MiB of them)
   * and its scheduler takes them round robin over the partitions: the same order.
   */
  refill(c: SimConsumer): void {
    let progress = true
    while (progress && c.scheduler.queued < this.bufferLimit) {
      progress = false
      for (const index of c.owned) {
        if (c.scheduler.queued >= this.bufferLimit) return
        const id = this.fetch(this.partitions[index]!, c)
        if (id === undefined) continue
        c.scheduler.add({ partition: index, offset: BigInt(this.offset[id]!), key: null, item: id })
        progress = true
      }
    }
  }

  /** The next record of the partition for its owner, or undefined (none, or the previous owner still runs one). */
  fetch(p: SimPartition, c: SimConsumer): number | undefined {
    if (p.fetchOwner !== c) {
      // Handoff (src/consumer/handoff.ts): the new owner waits while another member runs a record of it.
      if (p.running - c.scheduler.runningOn(p.index) > 0) return undefined
      p.fetchOwner = c
      p.fetchPos = p.watermark
    }
    // From the committed offset; records done above it (out of order) are skipped, as the commit metadata says.
    while (p.fetchPos < p.ids.length && this.state[p.ids[p.fetchPos]!] !== WAITING) p.fetchPos++
    if (p.fetchPos >= p.ids.length) return undefined
    return p.ids[p.fetchPos++]
  }

  start(c: SimConsumer, job: Job<number>): void {
    const id = job.item
    this.state[id] = RUNNING
    this.partitions[job.partition]!.running++
    if (c.active === 0) c.busySince = this.now
    c.active++
    this.schedule({ at: this.now + this.workOf(id), kind: FINISH, consumer: c, job })
  }

  // --- the backend: spawn, SIGTERM newest first -------------------------------------------------

  spawn(): SimConsumer {
    const seq = ++this.#spawned
    const clientId = `lagscale-worker-${seq}`
    const c: SimConsumer = {
      seq,
      clientId,
      // Kafka's assignors order members by member id; @platformatic/kafka's start with the client id.
      memberId: `${clientId}-sim`,
      state: 'starting',
      requestedAt: this.now,
      loadLeftMs: 0,
      scheduler: new WorkScheduler<number>({ concurrency: this.o.concurrency, ordering: this.o.ordering }),
      owned: [],
      active: 0,
      busySince: 0,
      busyMs: 0,
      workMs: 0,
      records: 0
    }
    this.consumers.push(c)
    return c
  }

  /** The local backend's reconcile (backends/local.ts): spawn up to desired, SIGTERM the newest above it. */
  scaleTo(desired: number): void {
    this.desired = desired
    const live = this.consumers.filter((c) => c.state === 'starting' || c.state === 'member')
    const added = Math.max(0, desired - live.length)
    if (added > 0) {
      this.advanceLoading()
      for (let i = 0; i < added; i++) this.beginLoading(this.spawn())
      this.scheduleLoaded()
    }
    for (const c of live.slice(desired).reverse()) this.stop(c)
    this.point()
  }

  /**
   * A start-up in two parts. Loading (startupPerConcurrentMs of work) runs on cores shared by
   * every consumer loading at that moment: with n loading, each goes at 1/n speed, so a
   * consumer spawned while others load slows them too. The rest of startupMs (connect, join)
   * is the consumer's own. One alone takes startupMs; n spawned together startupMs +
   * (n - 1) x startupPerConcurrentMs, what the experiment's calibration measures.
   */
  beginLoading(c: SimConsumer): void {
    const shared = Math.min(this.o.startupPerConcurrentMs, this.o.startupMs)
    if (shared === 0) {
      this.schedule({ at: this.now + this.o.startupMs, kind: READY, consumer: c })
      return
    }
    c.loadLeftMs = shared
    this.loading.add(c)
  }

  /** Brings every loading consumer's remaining work up to now (call before the set changes). */
  advanceLoading(): void {
    const n = this.loading.size
    if (n > 0) {
      const done = (this.now - this.loadUpdatedAt) / n
      for (const c of this.loading) c.loadLeftMs = Math.max(0, c.loadLeftMs - done)
    }
    this.loadUpdatedAt = this.now
  }

  /** The next consumer to finish loading at the current share; earlier LOADED events go stale. */
  scheduleLoaded(): void {
    this.loadVersion++
    let least = Number.POSITIVE_INFINITY
    for (const c of this.loading) least = Math.min(least, c.loadLeftMs)
    if (least === Number.POSITIVE_INFINITY) return
    this.schedule({ at: this.now + least * this.loading.size, kind: LOADED, version: this.loadVersion })
  }

  loaded(version: number): void {
    if (version !== this.loadVersion) return
    this.advanceLoading()
    const rest = this.o.startupMs - Math.min(this.o.startupPerConcurrentMs, this.o.startupMs)
    // Float residue of the shares: within a microsecond of done is done.
    for (const c of [...this.loading]) {
      if (c.loadLeftMs > 1e-3) continue
      this.loading.delete(c)
      c.loadLeftMs = 0
      this.schedule({ at: this.now + rest, kind: READY, consumer: c })
    }
    this.scheduleLoaded()
  }

  ready(c: SimConsumer): void {
    if (c.state !== 'starting') return
    c.state = 'member'
    c.joinedAt = this.now
    this.membershipChanged()
  }

  /** SIGTERM: no new records, the running ones finish (and commit), then it leaves the group. */
  stop(c: SimConsumer): void {
    c.stopRequestedAt = this.now
    if (c.state === 'starting') {
      // Not in the group yet: it just ends, no rebalance (and leaves the cores to the others loading).
      if (this.loading.has(c)) {
        this.advanceLoading()
        this.loading.delete(c)
        this.scheduleLoaded()
      }
      c.state = 'gone'
      c.leftAt = this.now
      return
    }
    c.state = 'stopping'
    c.scheduler.dropPartitions(() => false)
    for (const index of c.owned) {
      const p = this.partitions[index]!
      if (p.fetchOwner === c) p.fetchOwner = undefined
    }
    if (c.active === 0) this.leave(c)
  }

  leave(c: SimConsumer): void {
    c.state = 'gone'
    c.leftAt = this.now
    this.membershipChanged()
  }

  // --- the group coordinator --------------------------------------------------------------------

  members(): SimConsumer[] {
    return this.consumers
      .filter((c) => c.state === 'member' || c.state === 'stopping')
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  }

  membershipChanged(): void {
    this.point()
    if (this.rebalancePending) return
    this.rebalancePending = true
    this.schedule({ at: this.now, kind: REBALANCE })
  }

  /**
   * Every membership change of this instant, at once. Joining an empty group costs nothing beyond
   * the start-up; a change in a group with members that were working pauses the whole group
   * (eager protocol: everyone stops starting records, running ones finish) for rebalancePauseMs,
   * a change during a pause makes it last rebalancePauseMs from then. The new assignment applies
   * when the pause is over.
   */
  rebalance(): void {
    this.rebalancePending = false
    const members = this.members()
    const working = members.filter((c) => this.generation.has(c))
    if (members.length === 0 || working.length === 0) {
      if (this.paused) this.endPause()
      this.assign()
      return
    }
    this.rebalanceCount++
    if (this.o.rebalancePauseMs === 0) {
      this.rebalanceLog.push({ t: this.now, untilMs: this.now, members: members.length })
      this.assign()
      return
    }
    if (!this.paused) {
      this.paused = true
      this.pauseStart = this.now
    }
    this.pausedUntil = this.now + this.o.rebalancePauseMs
    this.rebalanceLog.push({ t: this.now, untilMs: this.pausedUntil, members: members.length })
    this.schedule({ at: this.pausedUntil, kind: PAUSE_END, until: this.pausedUntil })
  }

  pauseEnd(until: number): void {
    if (!this.paused || until !== this.pausedUntil) return
    this.endPause()
    this.assign()
  }

  endPause(): void {
    this.paused = false
    this.pauseTotal += this.now - this.pauseStart
  }

  /** The assignor's assignment over the members now; lost partitions' queued records are dropped. */
  assign(): void {
    const members = this.members()
    const lists = assignPartitions(this.topicPartitions, members.length, this.o.assignor)
    const owner = new Map<number, SimConsumer>()
    members.forEach((c, i) => {
      c.owned = lists[i]!.map((tp) => tp.partition)
      for (const index of c.owned) owner.set(index, c)
    })
    for (const p of this.partitions) {
      const next = owner.get(p.index)
      if (next !== p.owner) {
        p.owner = next
        p.fetchOwner = undefined
      }
      // The worker commits the log start of a partition it gets without a commit (auto.offset.reset=earliest).
      if (next && p.committed === undefined) p.committed = p.watermark
    }
    for (const c of this.consumers) {
      if (c.state === 'gone' || c.state === 'starting') continue
      const kept = new Set(c.owned)
      c.scheduler.dropPartitions((index) => kept.has(index))
    }
    this.generation = new Set(members)
    for (const c of members) this.dispatch(c)
  }

  // --- the autoscaler loop (src/autoscaler/autoscaler.ts) --------------------------------------

  tick(): void {
    const o = this.o
    this.ticks++
    const observation = this.observe()
    this.history.push(observation)
    const horizon = observation.at - o.historyMs
    while (this.history.length > 1 && this.history[0]!.at < horizon) this.history.shift()
    // The backend's status().desired: what it was last asked for.
    this.scaler = { ...this.scaler, current: this.desired }
    const limits: ScalingLimits = {
      min: o.min,
      max: o.max,
      scaleOutCooldownMs: o.scaleOutCooldownMs,
      scaleInCooldownMs: o.scaleInCooldownMs,
      parallelismPerPartition: parallelismPerPartition(
        { concurrency: o.concurrency, ordering: o.ordering },
        observation
      ),
      concurrencyPerConsumer: o.concurrency
    }
    const decision = this.policy({ now: observation.at, history: this.history, state: this.scaler, limits })
    let applied = false
    const before = this.desired
    if (decision.desired !== before) {
      this.scaleTo(decision.desired)
      applied = true
      // Bringing the pool up to its first count is no scale-out to cool down from (as the real loop).
      const first = this.scaler.lastDecision === undefined
      if (decision.desired > before) {
        if (!first) this.scaler.lastScaleOutAt = decision.at
      } else this.scaler.lastScaleInAt = decision.at
    }
    this.scaler.lastDecision = decision
    this.log({ ...decision, applied })
    const lags = observation.partitions.map((p) => p.lag)
    this.lag.push({ t: this.now, lag: lags, sumLag: observation.sumOffsetLag })
    this.schedule({ at: this.now + o.intervalMs, kind: TICK })
  }

  /** What the lag monitor would read now: offsets, commits, the oldest unconsumed record's time, the members. */
  observe(): Observation {
    const o = this.o
    const at = o.startEpochMs + this.now
    const oldestTimestamps = new Map<string, number>()
    const owners = new Map<string, string>()
    const sampledKeys = new Map<string, number>()
    const partitions = this.partitions.map((p) => {
      const key = `${o.topic}:${p.index}`
      if (p.watermark < p.ids.length) {
        oldestTimestamps.set(key, o.startEpochMs + this.load.producedAt[p.ids[p.watermark]!]!)
      }
      // Keyless records: a sample of any backlog has one key.
      sampledKeys.set(key, 1)
      if (p.owner && !this.paused) owners.set(key, p.owner.clientId)
      const raw = { topic: o.topic, partition: p.index, start: 0, end: p.ids.length }
      return p.committed === undefined ? raw : { ...raw, committed: p.committed }
    })
    const members: GroupMemberObservation[] = this.members().map((c) => ({
      memberId: c.memberId,
      clientId: c.clientId,
      host: '/127.0.0.1',
      // While the group rebalances, describeGroups shows no assignment.
      partitions: this.paused ? [] : c.owned.map((partition) => ({ topic: o.topic, partition }))
    }))
    const previous = this.history.at(-1)
    return summarizeObservation({
      now: at,
      group: o.group,
      topics: [o.topic],
      groupState: members.length === 0 ? 'Empty' : this.paused ? 'PreparingRebalance' : 'Stable',
      members,
      partitions,
      resetPolicy: 'earliest',
      ...(previous ? { previous } : {}),
      oldestTimestamps,
      owners,
      sampledKeys
    })
  }

  /** Changes are always logged; a hold only when its reason differs from the last line's (as the real loop). */
  log(entry: DecisionLogEntry): void {
    const last = this.decisions.at(-1)
    if (entry.action === 'hold' && last?.action === 'hold' && last.reason === entry.reason) return
    this.decisions.push({ ...entry, t: this.now })
  }

  // --- bookkeeping ------------------------------------------------------------------------------

  point(): void {
    let running = 0
    let processes = 0
    for (const c of this.consumers) {
      if (c.state === 'member' || c.state === 'stopping') running++
      if (c.state !== 'gone') processes++
    }
    const p: SimConsumersPoint = { t: this.now, desired: this.desired, running, processes }
    const last = this.series.at(-1)
    if (last && last.t === p.t) this.series[this.series.length - 1] = p
    else if (!last || last.desired !== p.desired || last.running !== p.running || last.processes !== p.processes) {
      this.series.push(p)
    }
  }

  /**
   * The run is over when everything is produced and committed and the pool is back at min
   * (nothing starting or stopping, no rebalance of this instant pending); or settleMs after the
   * drain when it never gets there.
   */
  checkEnd(): void {
    if (this.endAt !== undefined) return
    const drained = this.produced === this.load.count && this.done === this.load.count
    if (!drained) return
    if (this.now - (this.drainedAt ?? 0) >= this.o.settleMs) {
      this.endAt = this.now
      this.endReason = 'settle-timeout'
      return
    }
    if (this.rebalancePending) return
    if (this.desired !== this.o.min) return
    let members = 0
    for (const c of this.consumers) {
      if (c.state === 'starting' || c.state === 'stopping') return
      if (c.state === 'member') members++
    }
    if (members === this.desired) this.endAt = this.now
  }

  result(): SimResult {
    const end = this.endAt ?? this.now
    // A pause under way at the end (the scale-in's own leave) still happens; a truncated run counts it up to the end.
    if (this.paused)
      this.pauseTotal += (this.truncated ? Math.min(end, this.pausedUntil) : this.pausedUntil) - this.pauseStart
    const consumers: SimConsumerStats[] = this.consumers.map((c) => {
      const until = c.leftAt ?? end
      const busyMs = c.busyMs + (c.active > 0 ? end - c.busySince : 0)
      const memberMs = c.joinedAt === undefined ? 0 : until - c.joinedAt
      const stats: SimConsumerStats = {
        id: c.clientId,
        requestedMs: c.requestedAt,
        lifetimeMs: until - c.requestedAt,
        memberMs,
        busyMs,
        idleMs: memberMs - busyMs,
        workMs: c.workMs,
        records: c.records
      }
      if (c.joinedAt !== undefined) stats.joinedMs = c.joinedAt
      if (c.stopRequestedAt !== undefined) stats.stopRequestedMs = c.stopRequestedAt
      if (c.leftAt !== undefined) stats.leftMs = c.leftAt
      return stats
    })
    let workMs = 0
    for (let i = 0; i < this.load.count; i++) workMs += this.workOf(i)
    const first = this.load.count > 0 ? this.load.producedAt[0]! : undefined
    const result: SimResult = {
      options: this.o,
      records: this.load.count,
      workMs,
      endMs: end,
      endReason: this.endReason,
      truncated: this.truncated,
      consumerSeconds: consumers.reduce((sum, c) => sum + c.lifetimeMs, 0) / 1000,
      peak: {
        desired: this.series.reduce((m, p) => Math.max(m, p.desired), 0),
        running: this.series.reduce((m, p) => Math.max(m, p.running), 0)
      },
      rebalances: { count: this.rebalanceCount, pauseMs: this.pauseTotal, log: this.rebalanceLog },
      consumers,
      series: this.series,
      lag: this.lag,
      decisions: this.decisions,
      ticks: this.ticks
    }
    if (first !== undefined) result.firstProducedMs = first
    if (this.drainedAt !== undefined) {
      result.drainedAtMs = this.drainedAt
      if (first !== undefined) result.drainMs = this.drainedAt - first
    }
    return result
  }
}
