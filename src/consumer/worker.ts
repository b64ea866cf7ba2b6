import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Admin } from '@platformatic/kafka'
import type { FastifyInstance } from 'fastify'
import {
  createAdmin,
  createConsumer,
  createProducer,
  type RawConsumedMessage,
  type RawConsumer
} from '../kafka/clients.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'
import { toUserError } from '../kafka/errors.ts'
import { watchHeartbeats } from '../kafka/heartbeat-watch.ts'
import { ReconnectBackoff } from '../kafka/reconnect-backoff.ts'
import { isCoordinatorError, isNetworkError } from '../kafka/retry-policy.ts'
import { createLogger, type Logger } from '../log.ts'
import { parseWorkerSettings, type WorkerSettings, type WorkerSettingsInput } from './config.ts'
import { type DeadLetterKind, ensureDeadLetterTopic, sendToDeadLetter } from './dead-letter.ts'
import { type RecordHandler, seedHandler } from './handler.ts'
import {
  type CommittedState,
  commitWithMetadata,
  doneMetadata,
  encodeBusyMarker,
  groupMemberIds,
  readCommitted
} from './handoff.ts'
import { buildHttpServer } from './http.ts'
import { createWorkerMetrics, type WorkerMetrics } from './metrics.ts'
import { OffsetTracker } from './offset-tracker.ts'
import { isPoison } from './poison.ts'
import { toWorkerRecord, type WorkerRecord } from './record.ts'
import { type Job, WorkScheduler } from './scheduler.ts'

export type CreateWorkerOptions = WorkerSettingsInput & {
  connection: ConnectionConfig
  /** Default: the seed's handler (sleep value x workUnitMs). */
  handle?: RecordHandler
  logger?: Logger
}

export type RecordOutcome = 'ok' | 'dead-lettered' | 'abandoned' | 'skipped'

export interface StopReport {
  reason: string
  /** From stop() to everything closed (group left). */
  stopMs: number
  /** Whether a record was still running when the grace period ended (it was not committed). */
  abandoned: boolean
}

export interface WorkerEvents {
  /** A rebalance gave this worker these partitions (possibly none). */
  assigned: [partitions: number[]]
  /** A record is finished and its offset committed (ok / dead-lettered). */
  processed: [record: WorkerRecord, outcome: 'ok' | 'dead-lettered']
  stopped: [report: StopReport]
}

interface Session {
  id: number
  consumer: RawConsumer
  stream: Awaited<ReturnType<RawConsumer['consume']>> | undefined
  lost: boolean
  /** Stops the heartbeat watch (heartbeat-watch.ts). */
  unwatch?: () => void
}

/** Fetched records held in memory, in bytes (estimated from the average record size). */
const BUFFER_BYTES = 4 * 1024 * 1024
const MAX_BUFFERED_RECORDS = 10_000

/** A moving average of fetched record sizes (key + value + headers), for the buffer's record limit. */
class RecordSizeAverage {
  average = 1024
  #seen = 0

  observe(message: RawConsumedMessage): void {
    let bytes = 64 + (message.key?.length ?? 0) + (message.value?.length ?? 0)
    for (const [k, v] of message.headers ?? []) bytes += (k?.length ?? 0) + (v?.length ?? 0)
    this.#seen = Math.min(this.#seen + 1, 100)
    this.average += (bytes - this.average) / this.#seen
  }
}

/** A fetched record on its way through the worker. */
interface Work {
  session: Session
  message: RawConsumedMessage
  /** Set while it runs. */
  abort?: AbortController
}

/** What the worker keeps per partition it owns (or just lost and is finishing). */
interface PartitionState {
  partition: number
  session: Session
  tracker: OffsetTracker
  /** False once a rebalance took the partition away: finish what runs, commit, forget. */
  owned: boolean
  /** A commit waiting to be sent (it will carry the newest state); and the one on the wire. */
  queuedCommit: Promise<void> | undefined
  sentCommit: Promise<void> | undefined
  /** The busy claim in effect while records of the partition run (handoff.ts). */
  claim?: Promise<boolean> | undefined
  retryTimer?: NodeJS.Timeout | undefined
  /** When a rebalance took it away. */
  revokedAt?: number
}

/** The new owner of a lost partition went on without us: our commit would move its offset back. */
class PartitionMovedError extends Error {
  constructor() {
    super('the partition moved to another member')
  }
}
/** How long a record waits for a rebalance to settle when its partition could not be marked busy. */
const MARK_RETRY_WAIT_MS = 5000
/** Delay before a refused commit is sent again. */
const COMMIT_RETRY_MS = 500
/**
 * After a commit failed because the cluster did not answer, no new record starts for this long
 * (renewed by each further failure, lifted by the next commit that lands): work done while
 * commits cannot land is redone after the outage, so a worker holding a buffer of fetched
 * records would otherwise redo all of them (measured: 192 of 800 records twice with 4 pool
 * workers through a broker kill -9, 20 ms records).
 */
const COMMIT_HOLD_MS = 2000
/** How often the worker checks that a session which is not lost is still in the group. */
const MEMBERSHIP_CHECK_MS = 1000

/**
 * A consumer worker: one member of `group` on `topic` that hands each record to
 * `handle`, one at a time (so each partition's records run in order), and commits a
 * record's offset only after the handler finished (at-least-once). Records the handler
 * cannot process go to the dead-letter topic. Health and metrics over HTTP.
 */
export function createWorker(options: CreateWorkerOptions): Worker {
  return new Worker(options)
}

export class Worker extends EventEmitter<WorkerEvents> {
  readonly settings: WorkerSettings
  readonly metrics: WorkerMetrics
  readonly log: Logger
  readonly #connection: ConnectionConfig
  readonly #handle: RecordHandler
  #http: FastifyInstance | undefined
  #producer: ReturnType<typeof createProducer> | undefined
  /** Reads committed offsets with their metadata and the group's members (handoff). */
  #admin: Admin | undefined
  #dltPartitions = 1
  #session: Session | undefined
  #sessionCount = 0
  readonly #rejoinBackoff = new ReconnectBackoff()
  #restartTimer: NodeJS.Timeout | undefined
  /** Consecutive failed rejoin attempts since the session ended (0 while a member). */
  #rejoinAttempts = 0
  #membershipTimer: NodeJS.Timeout | undefined
  /** performance.now() when the worker last stopped being a group member (undefined while a member). */
  #notMemberSince: number | undefined = performance.now()
  /** performance.now() until which no new record starts (COMMIT_HOLD_MS). */
  #commitHoldUntil = 0
  #commitHoldTimer: NodeJS.Timeout | undefined
  /** Set at the first join: from then on a refused or closed connection means a broker went away. */
  #joinedOnce = false
  #lagTimer: NodeJS.Timeout | undefined
  #member = false
  #assignment: number[] = []
  /** Per partition: offsets taken/finished and the commit state (offset-tracker.ts). */
  readonly #partitions = new Map<number, PartitionState>()
  /** Fetched records not yet handed to the scheduler (partition state not ready, or back-pressure). */
  readonly #incoming: Work[] = []
  readonly #recordBytes = new RecordSizeAverage()
  readonly #scheduler: WorkScheduler<Work>
  readonly #running = new Set<Promise<void>>()
  readonly #runningJobs = new Set<Job<Work>>()
  #abandoned = false
  #started = false
  #preparing: Promise<void> | undefined
  #stopping: Promise<StopReport> | undefined
  #resolveDone!: (report: StopReport) => void
  /** Resolves once the worker has stopped (stop() or a fatal error at start). */
  readonly done: Promise<StopReport>

  constructor(options: CreateWorkerOptions) {
    super()
    const { connection, handle, logger, ...settings } = options
    this.settings = parseWorkerSettings(settings)
    this.#connection = connection
    this.#handle = handle ?? seedHandler
    this.log = logger ?? createLogger({ name: 'lagscale-consumer', level: this.settings.logLevel })
    this.metrics = createWorkerMetrics({ group: this.settings.group, topic: this.settings.topic })
    this.#scheduler = new WorkScheduler({ concurrency: this.settings.concurrency, ordering: this.settings.ordering })
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve
    })
  }

  /** The HTTP port (after start). */
  get port(): number {
    return (this.#http?.server.address() as AddressInfo | null)?.port ?? 0
  }

  /** A live member of the group, consuming. */
  healthy(): boolean {
    return this.#member && !this.#stopping && this.#session !== undefined && !this.#session.lost
  }

  get assignment(): number[] {
    return [...this.#assignment]
  }

  /**
   * Everything start() does before joining the group: checks the topic, prepares the
   * dead-letter topic, opens the producer and starts HTTP. A warm standby (`lagscale
   * consumer --standby`) does this ahead, so joining later takes only the rebalance.
   * Errors reject with a UserError and stop the worker.
   */
  prepare(): Promise<void> {
    this.#preparing ??= this.#prepare()
    return this.#preparing
  }

  async #prepare(): Promise<void> {
    const s = this.settings
    try {
      this.#dltPartitions = await ensureDeadLetterTopic(this.#connection, s.topic, s.dltTopic, s.createTopicPartitions)
      this.#producer = createProducer(this.#connection)
      this.#admin = createAdmin(this.#connection)
      this.#http = buildHttpServer({
        healthy: () => this.healthy(),
        registry: this.metrics.registry,
        // Out of the group for longer than a rebalance can take: unhealthy (ECS replaces the task).
        outOfGroupGraceMs: this.#rebalanceTimeoutMs()
      })
      try {
        await this.#http.listen({ port: s.port, host: s.host })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        throw toUserError(
          new Error(code === 'EADDRINUSE' ? `port ${s.port} is already in use` : (err as Error).message),
          'start HTTP server'
        )
      }
    } catch (err) {
      await this.#startFailed()
      throw err
    }
  }

  async #startFailed(): Promise<void> {
    await this.#closeAll()
    this.#resolveDone({ reason: 'start failed', stopMs: 0, abandoned: false })
  }

  /**
   * prepare() if not done yet, then joins the group. Resolves once the consumer stream is
   * open; errors here (unknown topic, bad credentials, port in use) reject with a UserError.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error('worker already started')
    this.#started = true
    const s = this.settings
    await this.prepare()
    if (this.#stopping) throw new Error('the worker was stopped before it joined the group')
    try {
      await this.#openSession()
    } catch (err) {
      await this.#startFailed()
      throw err
    }
    this.#lagTimer = setInterval(() => void this.#updateLag(), s.lagIntervalMs)
    this.#lagTimer.unref()
    this.#membershipTimer = setInterval(() => this.#checkMembership(), MEMBERSHIP_CHECK_MS)
    this.#membershipTimer.unref()
    this.log.info(
      { event: 'started', topic: s.topic, group: s.group, port: this.port, dltTopic: s.dltTopic },
      `consumer worker started: topic ${s.topic}, group ${s.group}, http :${this.port}`
    )
  }

  /**
   * Stops fetching, lets the current record finish (up to shutdownGraceMs; after that it
   * is abandoned and not committed), then closes the consumer, which leaves the group at
   * once so its partitions move to other members without waiting for a session timeout.
   */
  stop(reason = 'stop'): Promise<StopReport> {
    this.#stopping ??= this.#stop(reason)
    return this.#stopping
  }

  async #stop(reason: string): Promise<StopReport> {
    const started = performance.now()
    this.log.info({ event: 'stopping', reason, busy: this.#running.size }, `stopping (${reason})`)
    // A stop while preparing waits for it: what it opens must be closed below.
    await this.#preparing?.catch(() => {})
    this.#session?.stream?.pause()
    clearTimeout(this.#restartTimer)
    clearInterval(this.#lagTimer)
    clearInterval(this.#membershipTimer)
    let abandoned = false
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.settings.shutdownGraceMs)
      })
      const first = await Promise.race([Promise.all([...this.#running]), graceOver])
      clearTimeout(timer)
      if (first === 'timeout') {
        abandoned = true
        this.#abandoned = true
        for (const job of this.#runningJobs) job.item.abort?.abort(new Error('shutdown grace period over'))
        this.log.warn(
          { event: 'abandoned', graceMs: this.settings.shutdownGraceMs, records: this.#runningJobs.size },
          'shutdown grace period over: running records are abandoned, not committed; another member will redo them'
        )
        await Promise.all([...this.#running])
      }
    }
    await this.#flushCommits()
    await this.#closeAll()
    const report: StopReport = { reason, stopMs: Math.round(performance.now() - started), abandoned }
    this.log.info({ event: 'stopped', ...report }, `stopped in ${report.stopMs} ms`)
    this.emit('stopped', report)
    this.#resolveDone(report)
    return report
  }

  async #flushCommits(): Promise<void> {
    await Promise.allSettled([...this.#partitions.values()].flatMap((st) => [st.queuedCommit, st.sentCommit]))
  }

  async #closeAll(): Promise<void> {
    clearTimeout(this.#commitHoldTimer)
    clearInterval(this.#lagTimer)
    clearInterval(this.#membershipTimer)
    clearTimeout(this.#restartTimer)
    const session = this.#session
    this.#session = undefined
    if (session) await this.#closeSession(session)
    this.#setMember(false)
    this.#setAssignment([])
    await this.#producer?.close().catch(() => {})
    await this.#admin?.close().catch(() => {})
    await this.#http?.close().catch(() => {})
  }

  async #closeSession(session: Session): Promise<void> {
    session.lost = true
    session.unwatch?.()
    // close(true) closes the stream (flushing queued commits) and sends LeaveGroup.
    await session.consumer.close(true).catch((err: unknown) => {
      this.log.warn({ event: 'close-error', err: this.#userError(err).message }, 'closing the consumer failed')
    })
  }

  async #openSession(): Promise<void> {
    const s = this.settings
    const consumer = createConsumer(this.#connection, s.group, {
      autocommit: false,
      maxWaitTime: 500,
      highWaterMark: 16
    })
    const session: Session = { id: ++this.#sessionCount, consumer, stream: undefined, lost: false }
    this.#session = session
    consumer.on('consumer:group:join', (payload) => {
      if (session !== this.#session) return
      if (this.#rejoinAttempts > 0 || session.id > 1) {
        this.log.info(
          { event: 'rejoined', attempts: this.#rejoinAttempts, session: session.id },
          `rejoined the group (attempt ${this.#rejoinAttempts})`
        )
      }
      this.#rejoinBackoff.reset()
      this.#rejoinAttempts = 0
      this.#liftCommitHold()
      this.#joinedOnce = true
      this.#setMember(true)
      const partitions = (payload.assignments ?? [])
        .filter((a) => a.topic === s.topic)
        .flatMap((a) => a.partitions)
        .sort((a, b) => a - b)
      this.#setAssignment(partitions)
      this.log.info(
        { event: 'assigned', partitions, generationId: payload.generationId, memberId: payload.memberId },
        `assigned partitions [${partitions.join(', ')}]`
      )
      this.emit('assigned', partitions)
      void this.#openPartitions(session, partitions, payload.generationId)
    })
    session.unwatch = watchHeartbeats(consumer, s.sessionTimeoutMs, (err) => this.#sessionLost(session, err))
    consumer.on('consumer:group:leave', () => {
      if (session !== this.#session) return
      this.#setMember(false)
      this.#setAssignment([])
    })
    consumer.on('consumer:group:rebalance', () => {
      if (session === this.#session) this.log.info({ event: 'rebalance' }, 'group is rebalancing')
    })
    try {
      session.stream = await consumer.consume({
        topics: [s.topic],
        mode: 'committed',
        fallbackMode: 'earliest',
        sessionTimeout: s.sessionTimeoutMs,
        heartbeatInterval: s.heartbeatIntervalMs,
        rebalanceTimeout: this.#rebalanceTimeoutMs()
      })
    } catch (err) {
      session.unwatch?.()
      await consumer.close(true).catch(() => {})
      if (this.#session === session) this.#session = undefined
      throw this.#userError(err, `consume from ${s.topic}`)
    }
    const stream = session.stream
    stream.on('data', (message: RawConsumedMessage) => {
      this.#recordBytes.observe(message)
      this.#incoming.push({ session, message })
      if (this.#buffered() >= this.#maxBuffered()) stream.pause()
      this.#admit()
    })
    const lost = (err?: unknown): void => this.#sessionLost(session, err)
    stream.once('error', lost)
    stream.once('close', () => lost())
  }

  /**
   * Prepares the newly assigned partitions: waits (bounded) for a previous owner still working
   * on them (handoff.ts), then starts a tracker at the group's committed offset, seeded with
   * the records the commit's metadata lists as finished above it (parallel processing), so
   * they are skipped. Partitions kept through the rebalance keep their tracker. Partitions
   * with no commit get the log-start offset committed (auto.offset.reset=earliest): without
   * a committed offset @platformatic/kafka's stream would resume a returning partition at its
   * old fetch position and skip the records in between.
   */
  async #openPartitions(session: Session, partitions: number[], generationId: number | undefined): Promise<void> {
    const fresh = partitions.filter((p) => {
      const st = this.#partitions.get(p)
      return !(st?.owned && st.session === session)
    })
    // Kept through the rebalance: commit their state with the new generation (a commit refused
    // during the rebalance would otherwise wait for the partition's next record).
    for (const p of partitions) {
      const st = this.#partitions.get(p)
      if (st?.owned && st.session === session) void this.#commit(st).catch(() => {})
    }
    // One at a time per partition: a partition still busy at its previous owner must not hold up the others.
    await Promise.all(fresh.map((p) => this.#openPartition(session, p, generationId)))
  }

  async #openPartition(session: Session, p: number, generationId: number | undefined): Promise<void> {
    const topic = this.settings.topic
    const current = () => session === this.#session && session.consumer.generationId === generationId
    try {
      const committed = (await this.#awaitHandoff(session, [p], generationId)).get(p)
      if (!current()) return
      let c: CommittedState
      if (committed) c = committed
      else {
        const earliest = (await session.consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? []
        if (!current()) return
        c = { offset: earliest[p] ?? 0n, metadata: null }
        await session.consumer.commit({ offsets: [{ topic, partition: p, offset: c.offset, leaderEpoch: -1 }] })
      }
      if (!current() || !this.#assignment.includes(p)) return
      this.#partitions.set(p, {
        partition: p,
        session,
        tracker: OffsetTracker.fromCommit(c.offset, doneMetadata(c)),
        owned: true,
        queuedCommit: undefined,
        sentCommit: undefined
      })
    } catch (err) {
      // Not fatal: the next rebalance tries again. Records of this partition wait meanwhile.
      this.log.warn(
        { event: 'open-partition-failed', partition: p, err: this.#userError(err).message },
        'could not read the start offset'
      )
    }
    this.#admit()
  }

  /**
   * Committed offsets of newly assigned partitions, after waiting (bounded) for partitions
   * another live member still marks busy: their records would otherwise run twice at once.
   */
  async #awaitHandoff(session: Session, partitions: number[], generationId: number | undefined) {
    const { topic, group } = this.settings
    const admin = this.#admin!
    const started = Date.now()
    let committed = await readCommitted(admin, group, topic, partitions)
    let members: Set<string> | undefined
    let membersAt = 0
    const deadline = started + Math.max(this.settings.handoffTimeoutMs, 1000)
    for (;;) {
      if (session !== this.#session || session.lost || this.#stopping) break
      if (session.consumer.generationId !== generationId) break
      // Records of these partitions we still run from an earlier assignment (lost, then given
      // back): wait for them like for another owner's, or they would run a second time.
      const ours = partitions.some((p) => this.#scheduler.runningOn(p) > 0) && Date.now() < deadline
      const me = session.consumer.memberId
      const busy = [...committed].filter(([, c]) => c.marker && c.marker.memberId !== me && c.marker.until > Date.now())
      if (busy.length === 0 && !ours) break
      if (busy.length > 0 && (!members || Date.now() - membersAt > 1000)) {
        members = await groupMemberIds(admin, group)
        membersAt = Date.now()
      }
      // A previous owner that left the group (crashed, or stopped without finishing) is not waited for.
      if (!ours && !busy.some(([, c]) => members!.has(c.marker!.memberId))) break
      await sleep(100)
      committed = await readCommitted(admin, group, topic, partitions)
    }
    const waited = Date.now() - started
    if (waited >= 100) {
      this.log.info(
        { event: 'handoff', waitedMs: waited, partitions },
        `waited ${waited} ms for the previous owner to finish its record`
      )
    }
    return committed
  }

  /**
   * The stream died under us (broker gone, leader or coordinator moved, a commit hit a fenced
   * generation): close this member and join again as a new one, with backoff, until it works
   * or the worker stops. Records still running finish; their commits fail and the group's next
   * owner redoes them (at-least-once).
   */
  #sessionLost(session: Session, err?: unknown): void {
    if (session.lost || session !== this.#session || this.#stopping) return
    session.lost = true
    this.#setMember(false)
    this.#setAssignment([])
    this.log.warn(
      { event: 'session-lost', err: err ? this.#userError(err).message : 'stream closed' },
      'consumer stream ended unexpectedly; rejoining the group'
    )
    void this.#closeSession(session)
    this.#scheduleRejoin()
  }

  #scheduleRejoin(): void {
    if (this.#stopping) return
    const delay = this.#rejoinBackoff.next()
    clearTimeout(this.#restartTimer)
    this.#restartTimer = setTimeout(() => void this.#rejoin(), delay)
    this.log.debug({ event: 'rejoin-scheduled', inMs: delay, attempt: this.#rejoinAttempts + 1 }, 'rejoining soon')
  }

  async #rejoin(): Promise<void> {
    if (this.#stopping) return
    this.#rejoinAttempts++
    try {
      await this.#openSession()
    } catch (err) {
      if (this.#stopping) return
      // One line per attempt would flood the log during a long outage: the first few, then every 10th.
      const n = this.#rejoinAttempts
      if (n <= 3 || n % 10 === 0) {
        this.log.warn(
          { event: 'rejoin-failed', attempt: n, err: this.#userError(err).message },
          `cannot rejoin the group yet (attempt ${n}); retrying`
        )
      }
      this.#scheduleRejoin()
    }
  }

  /**
   * A safety net for a session that neither errored nor closed nor failed its heartbeats but
   * is out of the group (the client gave up rejoining after a coordinator change): after a full
   * rebalance timeout plus a session timeout outside the group, start a new member.
   */
  #checkMembership(): void {
    const session = this.#session
    if (!session || session.lost || this.#stopping || this.#notMemberSince === undefined) return
    const outMs = performance.now() - this.#notMemberSince
    if (outMs > this.#rebalanceTimeoutMs() + this.settings.sessionTimeoutMs) {
      this.#sessionLost(session, new Error(`not in the group for ${Math.round(outMs / 1000)} s`))
    }
  }

  #rebalanceTimeoutMs(): number {
    return Math.max(this.settings.sessionTimeoutMs, 30_000)
  }

  /** toUserError, knowing whether the worker had reached the cluster (then "lost the connection to ..."). */
  #userError(err: unknown, context?: string) {
    return toUserError(err, context, { connected: this.#joinedOnce, brokers: this.#connection.bootstrapServers })
  }

  #setMember(member: boolean): void {
    if (member) this.#notMemberSince = undefined
    else this.#notMemberSince ??= performance.now()
    this.#member = member
    this.metrics.member.set(member ? 1 : 0)
  }

  #setAssignment(partitions: number[]): void {
    const kept = new Set(partitions)
    for (const p of this.#assignment) {
      if (!kept.has(p)) {
        this.metrics.assigned.remove({ topic: this.settings.topic, partition: String(p) })
        this.metrics.lag.remove({ topic: this.settings.topic, partition: String(p) })
      }
    }
    // Partitions we lost: queued records go (the new owner reads them again), running ones finish and commit.
    this.#scheduler.dropPartitions((p) => kept.has(p))
    for (const st of this.#partitions.values()) {
      if (kept.has(st.partition) || !st.owned) continue
      st.owned = false
      st.revokedAt = Date.now()
      this.#boundRevokedWork(st)
      this.#forgetIfIdle(st)
    }
    for (const p of partitions) this.metrics.assigned.set({ topic: this.settings.topic, partition: String(p) }, 1)
    this.#assignment = partitions
  }

  #buffered(): number {
    return this.#incoming.length + this.#scheduler.queued
  }

  /**
   * How many fetched records may wait in memory before the stream is paused: about
   * BUFFER_BYTES of them (at least 16, at least 2 per slot). Holding a whole fetch of small
   * records lets the scheduler take them round robin over the partitions, instead of working
   * through one partition's run before the next partition's first record (a partition that
   * just moved here would wait behind the others: seconds per rebalance in bench:scale).
   */
  #maxBuffered(): number {
    const byBytes = Math.floor(BUFFER_BYTES / this.#recordBytes.average)
    return Math.max(16, this.settings.concurrency * 2, Math.min(MAX_BUFFERED_RECORDS, byBytes))
  }

  /**
   * Moves fetched records, in fetch order, into the scheduler: records of partitions we no
   * longer own are dropped; records finished already (below the committed offset, listed in
   * its metadata, or fetched twice) are skipped; a partition whose commit state would not
   * fit the metadata limit holds its records back until its oldest running ones finish.
   */
  #admit(): void {
    if (this.#stopping) return
    const held = new Set<number>()
    let write = 0
    for (const work of this.#incoming) {
      const { session, message } = work
      const p = message.partition
      if (session !== this.#session || session.lost || !this.#assignment.includes(p)) continue
      const st = this.#partitions.get(p)
      if (!st || st.session !== session || !st.owned || held.has(p) || !st.tracker.canTake(message.offset)) {
        held.add(p)
        this.#incoming[write++] = work
        continue
      }
      if (!st.tracker.take(message.offset)) {
        this.metrics.skipped.inc()
        continue
      }
      const key = message.key && message.key.length > 0 ? message.key.toString('utf8') : null
      this.#scheduler.add({ partition: p, offset: message.offset, key, item: work })
    }
    this.#incoming.length = write
    this.#dispatch()
  }

  /** Starts what the scheduler allows, and resumes fetching when there is room. */
  #dispatch(): void {
    if (this.#stopping || this.#commitsHeld()) return
    for (const job of this.#scheduler.next()) {
      this.#runningJobs.add(job)
      const run = this.#run(job).finally(() => {
        this.#runningJobs.delete(job)
        this.#running.delete(run)
        const st = this.#partitions.get(job.partition)
        if (st) this.#forgetIfIdle(st)
        this.#admit()
      })
      this.#running.add(run)
    }
    this.#updateInFlight()
    const session = this.#session
    if (session?.stream && !session.lost && this.#buffered() < this.#maxBuffered()) session.stream.resume()
  }

  /**
   * Records of a lost partition still running may finish within the handoff timeout (the new
   * owner waits that long for our busy mark); after that they are abandoned, uncommitted, and
   * the new owner redoes them.
   */
  #boundRevokedWork(st: PartitionState): void {
    if (this.#scheduler.runningOn(st.partition) === 0) return
    const timer = setTimeout(() => {
      for (const job of this.#runningJobs) {
        if (job.partition !== st.partition || this.#partitions.get(job.partition) !== st) continue
        job.item.abort?.abort(new Error('the partition moved to another member'))
      }
    }, this.settings.handoffTimeoutMs || 30_000)
    timer.unref()
  }

  #updateInFlight(): void {
    const topic = this.settings.topic
    for (const p of new Set([...this.#assignment, ...this.#partitions.keys()])) {
      this.metrics.inFlight.set({ topic, partition: String(p) }, this.#scheduler.runningOn(p))
    }
  }

  /** A partition we lost with nothing running any more: its last commit is out, forget it. */
  #forgetIfIdle(st: PartitionState): void {
    if (st.owned || this.#scheduler.runningOn(st.partition) > 0) return
    if (this.#partitions.get(st.partition) === st) this.#partitions.delete(st.partition)
  }

  async #run(job: Job<Work>): Promise<void> {
    const { session, message } = job.item
    const p = job.partition
    const st = this.#partitions.get(p)
    let released = false
    // Frees the slot and starts what can start now, before this record's commit is on the wire:
    // the next record of the partition then keeps the claim (the commit says "busy" for it), so
    // back-to-back records need no extra claim round trip. Idle, the next first record claims again.
    const release = (): void => {
      if (released) return
      released = true
      this.#scheduler.done(job)
      this.#dispatch()
      if (st && this.#scheduler.runningOn(p) === 0) st.claim = undefined
      this.#updateInFlight()
    }
    try {
      if (!st || st.session !== session) return
      // First record running on the partition: claim it before the work (handoff.ts), so a
      // rebalance that moves it makes the next owner wait instead of running it again.
      st.claim ??= this.#claim(st)
      if (!(await st.claim)) {
        // Most likely a rebalance is under way (the coordinator refuses commits then): wait for
        // the group to settle, and go on only if the partition is still ours.
        st.claim = undefined
        await this.#nextJoin(session, MARK_RETRY_WAIT_MS)
        if (this.#partitions.get(p) !== st || !st.owned || session.lost) return
        st.claim ??= this.#claim(st)
        await st.claim
      }
      if (this.#partitions.get(p) !== st || !st.owned) {
        // The group moved the partition while we claimed it: say "not busy" for its new owner.
        release()
        await this.#commit(st).catch(() => {})
        return
      }
      const record = toWorkerRecord(message)
      const started = performance.now()
      const outcome = await this.#process(job.item, record)
      if (outcome !== 'ok' && outcome !== 'dead-lettered') return
      st.tracker.complete(record.offset)
      release()
      try {
        await this.#commit(st)
      } catch (err) {
        // The group moved on (rebalance, lost session): the next owner redoes this record. Never lost.
        if (isNetworkError(err) || isCoordinatorError(err)) this.#holdForCommits()
        this.log.warn(
          { event: 'commit-failed', partition: p, offset: String(record.offset), err: this.#userError(err).message },
          'commit failed; the record will be redone'
        )
        return
      }
      const outcomeLabel = outcome === 'ok' ? 'ok' : 'dead_lettered'
      this.metrics.processed.inc({ outcome: outcomeLabel })
      this.metrics.processingSeconds.observe({ outcome: outcomeLabel }, (performance.now() - started) / 1000)
      this.emit('processed', record, outcome)
    } finally {
      release()
    }
  }

  /**
   * The cluster did not take a commit: start no new record for COMMIT_HOLD_MS (records running
   * finish). A later failure renews the hold; a commit that lands lifts it.
   */
  #holdForCommits(): void {
    const first = !this.#commitsHeld()
    this.#commitHoldUntil = performance.now() + COMMIT_HOLD_MS
    if (first) {
      this.log.warn(
        { event: 'commits-held', holdMs: COMMIT_HOLD_MS },
        'commits are not reaching the cluster: no new record starts until one lands'
      )
    }
    clearTimeout(this.#commitHoldTimer)
    this.#commitHoldTimer = setTimeout(() => this.#dispatch(), COMMIT_HOLD_MS + 10)
    this.#commitHoldTimer.unref()
  }

  #commitsHeld(): boolean {
    return performance.now() < this.#commitHoldUntil
  }

  #liftCommitHold(): void {
    if (!this.#commitsHeld()) return
    this.#commitHoldUntil = 0
    clearTimeout(this.#commitHoldTimer)
    this.log.info({ event: 'commits-resumed' }, 'commits land again')
    queueMicrotask(() => this.#dispatch())
  }

  /** Commits the partition's state saying "busy"; false when the coordinator refused (or no member id). */
  async #claim(st: PartitionState): Promise<boolean> {
    if (this.settings.handoffTimeoutMs === 0) return true
    try {
      await this.#commit(st)
      return true
    } catch (err) {
      this.log.debug({ event: 'claim-failed', err: this.#userError(err).message }, 'could not mark the partition busy')
      return false
    }
  }

  /**
   * Commits the partition's current state: the watermark (every record below it is done),
   * the records finished above it, and - while records of it run - a busy mark naming this
   * member (handoff.ts). One commit at a time per partition; calls that come while one is on
   * the wire share the next one, which carries the newest state.
   */
  #commit(st: PartitionState): Promise<void> {
    if (st.queuedCommit) return st.queuedCommit
    const previous = st.sentCommit ?? Promise.resolve()
    const next = previous
      .catch(() => {})
      .then(() => {
        st.queuedCommit = undefined
        const sent = this.#sendCommit(st)
        st.sentCommit = sent
        sent.catch((err: unknown) => this.#retryCommit(st, err))
        return sent
      })
    st.queuedCommit = next
    return next
  }

  /**
   * A refused commit (most often: a rebalance under way) of a partition we still own is sent
   * again, with the newest state: otherwise work already done would stay uncommitted, and
   * lag would not reach 0, until the next record of the partition.
   */
  #retryCommit(st: PartitionState, err: unknown): void {
    if (err instanceof PartitionMovedError || st.session.lost || st.retryTimer) return
    // A lost partition's last commit matters too: it takes our busy mark off, and the new owner
    // waits for that (until the handoff timeout).
    const wanted = () =>
      !st.session.lost &&
      (st.owned
        ? this.#partitions.get(st.partition) === st
        : Date.now() < (st.revokedAt ?? 0) + Math.max(this.settings.handoffTimeoutMs, 1000))
    if (!wanted()) return
    st.retryTimer = setTimeout(() => {
      st.retryTimer = undefined
      if (wanted()) void this.#commit(st).catch(() => {})
    }, COMMIT_RETRY_MS)
    st.retryTimer.unref()
  }

  async #sendCommit(st: PartitionState): Promise<void> {
    const { topic, group, handoffTimeoutMs } = this.settings
    const consumer = st.session.consumer
    const memberId = consumer.memberId
    if (st.session.lost) throw new Error('the consumer session ended')
    const offset = st.tracker.watermark()
    const done = st.tracker.encode()
    const busy = handoffTimeoutMs > 0 && memberId && this.#scheduler.runningOn(st.partition) > 0
    const metadata = busy
      ? encodeBusyMarker({ memberId, until: Date.now() + handoffTimeoutMs, ...(done ? { done } : {}) })
      : done
    if (!st.owned) {
      // Lost partition: the new owner waits only while our busy mark is there. If it is gone
      // (expired, or the owner went on), a commit now could move its offset back: don't.
      const now = (await readCommitted(this.#admin!, group, topic, [st.partition])).get(st.partition)
      if (now?.marker?.memberId !== memberId) {
        this.log.info({ event: 'revoked-mid-record', partition: st.partition }, 'partition moved on; not committing')
        throw new PartitionMovedError()
      }
    }
    await commitWithMetadata(consumer, topic, st.partition, offset, metadata)
    this.#liftCommitHold()
    this.metrics.watermark.set({ topic, partition: String(st.partition) }, Number(offset))
    if (!st.owned && !busy) {
      this.log.info(
        { event: 'handed-off', partition: st.partition, offset: String(offset) },
        'handed the partition over'
      )
    }
  }

  /** Resolves at the session's next group join, or after `ms`. */
  #nextJoin(session: Session, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.off('assigned', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.on('assigned', done)
      if (session !== this.#session) done()
    })
  }

  /** The handler with retries and dead-lettering; never throws. */
  async #process(work: Work, record: WorkerRecord): Promise<RecordOutcome> {
    const s = this.settings
    const abort = new AbortController()
    work.abort = abort
    const where = { partition: record.partition, offset: String(record.offset) }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#handle(record, { signal: abort.signal, attempt, log: this.log, settings: s })
        return this.#abandoned || work.session.lost ? 'abandoned' : 'ok'
      } catch (err) {
        if (abort.signal.aborted || this.#abandoned) return 'abandoned'
        const poison = isPoison(err)
        const reason = err instanceof Error ? err.message : String(err)
        if (poison || attempt >= s.maxAttempts) {
          const kind: DeadLetterKind = poison ? 'poison' : 'handler-error'
          if (!(await this.#deadLetter(record, { reason, kind, attempts: attempt }, abort.signal))) return 'abandoned'
          return this.#abandoned || work.session.lost ? 'abandoned' : 'dead-lettered'
        }
        const backoff = Math.min(s.retryBackoffMs * 2 ** (attempt - 1), s.retryBackoffMaxMs)
        this.metrics.retries.inc()
        this.log.warn(
          { event: 'retry', ...where, attempt, err: reason, backoffMs: backoff },
          `handler failed (attempt ${attempt}/${s.maxAttempts}): ${reason}`
        )
        try {
          await sleep(backoff, undefined, { signal: abort.signal })
        } catch {
          return 'abandoned'
        }
      }
    }
  }

  /** Sends the record to the DLT, retrying until it is stored or the worker gives the record up. */
  async #deadLetter(
    record: WorkerRecord,
    info: { reason: string; kind: DeadLetterKind; attempts: number },
    signal: AbortSignal
  ): Promise<boolean> {
    const s = this.settings
    for (let attempt = 1; ; attempt++) {
      try {
        await sendToDeadLetter(this.#producer!, s.dltTopic, this.#dltPartitions, record, {
          ...info,
          group: s.group,
          now: Date.now()
        })
        this.log.warn(
          {
            event: 'dead-lettered',
            partition: record.partition,
            offset: String(record.offset),
            dltTopic: s.dltTopic,
            ...info
          },
          `record sent to ${s.dltTopic}: ${info.reason}`
        )
        return true
      } catch (err) {
        const backoff = Math.min(1000 * attempt, 10_000)
        this.log.error(
          { event: 'dlt-failed', err: this.#userError(err).message, backoffMs: backoff },
          'cannot write to the dead-letter topic; retrying'
        )
        try {
          await sleep(backoff, undefined, { signal })
        } catch {
          return false
        }
      }
    }
  }

  /** Per-partition lag as this worker sees it: log-end offset minus its position. */
  async #updateLag(): Promise<void> {
    const session = this.#session
    const partitions = this.#assignment
    if (!session || session.lost || partitions.length === 0) return
    const topic = this.settings.topic
    try {
      const ends = (await session.consumer.listOffsets({ topics: [topic] })).get(topic) ?? []
      const unknown = partitions.filter((p) => !this.#partitions.has(p))
      const committed =
        unknown.length > 0
          ? ((await session.consumer.listCommittedOffsets({ topics: [{ topic, partitions: unknown }] })).get(topic) ??
            [])
          : []
      for (const p of partitions) {
        const end = ends[p]
        if (end === undefined) continue
        const position = this.#partitions.get(p)?.tracker.watermark() ?? committed[p] ?? -1n
        // No committed offset yet: with auto.offset.reset=earliest the whole log is lag (from offset 0 here).
        const lag = end - (position >= 0n ? position : 0n)
        this.metrics.lag.set({ topic, partition: String(p) }, Number(lag > 0n ? lag : 0n))
      }
    } catch (err) {
      this.log.debug({ event: 'lag-error', err: this.#userError(err).message }, 'cannot read offsets for the lag gauge')
    }
  }
}
