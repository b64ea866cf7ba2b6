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
import { createLogger, type Logger } from '../log.ts'
import { withTimeout } from '../timeout.ts'
import { parseWorkerSettings, type WorkerSettings, type WorkerSettingsInput } from './config.ts'
import { type DeadLetterKind, ensureDeadLetterTopic, sendToDeadLetter } from './dead-letter.ts'
import { type RecordHandler, seedHandler } from './handler.ts'
import { commitWithMetadata, encodeBusyMarker, groupMemberIds, readCommitted } from './handoff.ts'
import { buildHttpServer } from './http.ts'
import { createWorkerMetrics, type WorkerMetrics } from './metrics.ts'
import { isPoison } from './poison.ts'
import { toWorkerRecord, type WorkerRecord } from './record.ts'

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
}

const COMMIT_TIMEOUT_MS = 30_000
/** How long a record waits for a rebalance to settle when its partition could not be marked busy. */
const MARK_RETRY_WAIT_MS = 5000
const RESTART_BACKOFF_MAX_MS = 30_000

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
  #restartDelayMs = 1000
  #restartTimer: NodeJS.Timeout | undefined
  #lagTimer: NodeJS.Timeout | undefined
  #member = false
  #assignment: number[] = []
  /** Last offset this worker finished per partition, while it keeps owning the partition. */
  readonly #lastDone = new Map<number, bigint>()
  /**
   * Per partition, the group's committed offset when this assignment began: records below it
   * are done (by us before, or by the previous owner) and are skipped. Resolved per rebalance.
   */
  #floors: Promise<Map<number, bigint>> = Promise.resolve(new Map())
  readonly #queue: { session: Session; message: RawConsumedMessage }[] = []
  #pumping = false
  #current: Promise<RecordOutcome> | undefined
  #currentAbort: AbortController | undefined
  #abandoned = false
  #started = false
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
   * Checks the topic, prepares the dead-letter topic, starts HTTP and joins the group.
   * Resolves once the consumer stream is open; errors here (unknown topic, bad
   * credentials, port in use) reject with a UserError.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error('worker already started')
    this.#started = true
    const s = this.settings
    try {
      this.#dltPartitions = await ensureDeadLetterTopic(this.#connection, s.topic, s.dltTopic)
      this.#producer = createProducer(this.#connection)
      this.#admin = createAdmin(this.#connection)
      this.#http = buildHttpServer({ healthy: () => this.healthy(), registry: this.metrics.registry })
      try {
        await this.#http.listen({ port: s.port, host: s.host })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        throw toUserError(
          new Error(code === 'EADDRINUSE' ? `port ${s.port} is already in use` : (err as Error).message),
          'start HTTP server'
        )
      }
      await this.#openSession()
    } catch (err) {
      await this.#closeAll()
      const report = { reason: 'start failed', stopMs: 0, abandoned: false }
      this.#resolveDone(report)
      throw err
    }
    this.#lagTimer = setInterval(() => void this.#updateLag(), s.lagIntervalMs)
    this.#lagTimer.unref()
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
    this.log.info({ event: 'stopping', reason, busy: this.#current !== undefined }, `stopping (${reason})`)
    this.#session?.stream?.pause()
    clearTimeout(this.#restartTimer)
    clearInterval(this.#lagTimer)
    const current = this.#current
    let abandoned = false
    if (current) {
      let timer: NodeJS.Timeout | undefined
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.settings.shutdownGraceMs)
      })
      const first = await Promise.race([current, graceOver])
      clearTimeout(timer)
      if (first === 'timeout') {
        abandoned = true
        this.#abandoned = true
        this.#currentAbort?.abort(new Error('shutdown grace period over'))
        this.log.warn(
          { event: 'abandoned', graceMs: this.settings.shutdownGraceMs },
          'shutdown grace period over: the current record is abandoned, not committed; another member will redo it'
        )
      }
    }
    await this.#closeAll()
    const report: StopReport = { reason, stopMs: Math.round(performance.now() - started), abandoned }
    this.log.info({ event: 'stopped', ...report }, `stopped in ${report.stopMs} ms`)
    this.emit('stopped', report)
    this.#resolveDone(report)
    return report
  }

  async #closeAll(): Promise<void> {
    clearInterval(this.#lagTimer)
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
    // close(true) closes the stream (flushing queued commits) and sends LeaveGroup.
    await session.consumer.close(true).catch((err: unknown) => {
      this.log.warn({ event: 'close-error', err: toUserError(err).message }, 'closing the consumer failed')
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
      this.#restartDelayMs = 1000
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
      this.#floors = this.#readStartOffsets(session, partitions, payload.generationId)
    })
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
        rebalanceTimeout: Math.max(s.sessionTimeoutMs, 30_000)
      })
    } catch (err) {
      await consumer.close(true).catch(() => {})
      if (this.#session === session) this.#session = undefined
      throw toUserError(err, `consume from ${s.topic}`)
    }
    const stream = session.stream
    stream.on('data', (message: RawConsumedMessage) => {
      this.#queue.push({ session, message })
      stream.pause()
      void this.#pump()
    })
    const lost = (err?: unknown): void => this.#sessionLost(session, err)
    stream.once('error', lost)
    stream.once('close', () => lost())
  }

  /**
   * Reads where the group stands on the newly assigned partitions (the floor below which
   * records are done) and commits the log-start offset of those with no commit yet (what
   * auto.offset.reset=earliest means anyway). Why the commit: @platformatic/kafka's message
   * stream keeps its own fetch position per partition and, on a rejoin, only replaces it
   * with a *committed* offset. A partition this worker fetched from, lost before committing
   * anything, and got back would otherwise resume at the old fetch position and skip the
   * records in between: lost work. Why the floor: records fetched before a rebalance may
   * still sit in our queue after another member processed and committed them.
   */
  async #readStartOffsets(
    session: Session,
    partitions: number[],
    generationId: number | undefined
  ): Promise<Map<number, bigint>> {
    const topic = this.settings.topic
    const floors = new Map<number, bigint>()
    if (partitions.length === 0) return floors
    try {
      const committed = await this.#awaitHandoff(session, partitions, generationId)
      for (const [p, c] of committed) floors.set(p, c.offset)
      const missing = partitions.filter((p) => !floors.has(p))
      if (missing.length === 0) return floors
      const earliest = (await session.consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? []
      // A newer rebalance may have moved these partitions on: only the current owner commits.
      if (session !== this.#session || session.consumer.generationId !== generationId) return floors
      await session.consumer.commit({
        offsets: missing.map((partition) => ({ topic, partition, offset: earliest[partition] ?? 0n, leaderEpoch: -1 }))
      })
      this.log.debug({ event: 'start-offsets', partitions: missing }, 'committed start offsets')
    } catch (err) {
      // Not fatal: the next rebalance tries again; until then the stream starts at earliest anyway.
      this.log.warn({ event: 'start-offsets-failed', err: toUserError(err).message }, 'could not commit start offsets')
    }
    return floors
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
    for (;;) {
      const me = session.consumer.memberId
      const busy = [...committed].filter(([, c]) => c.marker && c.marker.memberId !== me && c.marker.until > Date.now())
      if (busy.length === 0) break
      if (session !== this.#session || session.lost || this.#stopping) break
      if (session.consumer.generationId !== generationId) break
      if (!members || Date.now() - membersAt > 1000) {
        members = await groupMemberIds(admin, group)
        membersAt = Date.now()
      }
      // A previous owner that left the group (crashed, or stopped without finishing) is not waited for.
      if (!busy.some(([, c]) => members!.has(c.marker!.memberId))) break
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

  /** The stream died under us (e.g. a commit hit a fenced generation): start a fresh member after a backoff. */
  #sessionLost(session: Session, err?: unknown): void {
    if (session.lost || session !== this.#session || this.#stopping) return
    session.lost = true
    this.#setMember(false)
    this.#setAssignment([])
    const delay = this.#restartDelayMs
    this.#restartDelayMs = Math.min(delay * 2, RESTART_BACKOFF_MAX_MS)
    this.log.warn(
      { event: 'session-lost', err: err ? toUserError(err).message : 'stream closed', restartInMs: delay },
      'consumer stream ended unexpectedly; rejoining the group'
    )
    void this.#closeSession(session)
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return
      this.#openSession().catch((e: unknown) => this.#sessionLost(this.#session ?? session, e))
    }, delay)
  }

  #setMember(member: boolean): void {
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
    // Progress on a partition we lost is someone else's now; forget it, so if it comes back we take what we get.
    for (const p of [...this.#lastDone.keys()]) if (!kept.has(p)) this.#lastDone.delete(p)
    for (const p of partitions) this.metrics.assigned.set({ topic: this.settings.topic, partition: String(p) }, 1)
    this.#assignment = partitions
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      for (let item = this.#queue.shift(); item && !this.#stopping; item = this.#queue.shift()) {
        const { session, message } = item
        if (session !== this.#session || session.lost) continue
        // Buffered records of partitions a rebalance took away, or that a rejoin fetched again.
        if (!this.#assignment.includes(message.partition)) continue
        const last = this.#lastDone.get(message.partition)
        if (last !== undefined && message.offset <= last) continue
        const floor = (await this.#floors).get(message.partition)
        if (floor !== undefined && message.offset < floor) {
          this.metrics.skipped.inc()
          continue
        }
        if (session !== this.#session || !this.#assignment.includes(message.partition)) continue
        this.#current = this.#process(session, message)
        try {
          await this.#current
        } finally {
          this.#current = undefined
        }
      }
    } finally {
      this.#pumping = false
    }
    const session = this.#session
    if (!this.#stopping && session?.stream && !session.lost && this.#queue.length === 0) session.stream.resume()
  }

  async #process(session: Session, message: RawConsumedMessage): Promise<RecordOutcome> {
    const s = this.settings
    const record = toWorkerRecord(message)
    const started = performance.now()
    const abort = new AbortController()
    this.#currentAbort = abort
    const where = { partition: record.partition, offset: String(record.offset) }
    let marked = await this.#markBusy(session, record)
    if (!marked) {
      // Most likely a rebalance is under way (the coordinator refuses commits then). Working
      // now could overlap the partition's next owner: wait for the group to settle, then go
      // on only if the partition is still ours and the record not done by someone else.
      await this.#nextJoin(session, MARK_RETRY_WAIT_MS)
      const floor = (await this.#floors).get(record.partition)
      if (session !== this.#session || session.lost || !this.#assignment.includes(record.partition)) return 'skipped'
      if (floor !== undefined && record.offset < floor) return 'skipped'
      marked = await this.#markBusy(session, record)
    }
    if (!this.#assignment.includes(record.partition)) {
      // The group moved the partition while we marked it: leave it unmarked for its new owner
      // (who waits for our mark, so the offset is still this record's and nothing moves back).
      if (marked) await this.#clearBusy(session, record)
      return 'skipped'
    }
    let outcome: 'ok' | 'dead-lettered' | undefined
    for (let attempt = 1; outcome === undefined; attempt++) {
      try {
        await this.#handle(record, { signal: abort.signal, attempt, log: this.log, settings: s })
        outcome = 'ok'
      } catch (err) {
        if (abort.signal.aborted || this.#abandoned) return 'abandoned'
        const poison = isPoison(err)
        const reason = err instanceof Error ? err.message : String(err)
        if (poison || attempt >= s.maxAttempts) {
          const kind: DeadLetterKind = poison ? 'poison' : 'handler-error'
          if (!(await this.#deadLetter(record, { reason, kind, attempts: attempt }, abort.signal))) return 'abandoned'
          outcome = 'dead-lettered'
          break
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
    if (this.#abandoned || session.lost) return 'abandoned'
    try {
      if (this.#assignment.includes(record.partition)) {
        await withTimeout(message.commit() as Promise<void>, COMMIT_TIMEOUT_MS, () => new Error('commit timed out'))
      } else if (!(await this.#commitAfterRevocation(session, record))) {
        return 'abandoned'
      }
    } catch (err) {
      // The group moved on (rebalance, lost session): the next owner redoes this record. Never lost.
      this.log.warn(
        { event: 'commit-failed', ...where, err: toUserError(err).message },
        'commit failed; the record will be redone'
      )
      return 'abandoned'
    }
    this.#lastDone.set(record.partition, record.offset)
    const outcomeLabel = outcome === 'ok' ? 'ok' : 'dead_lettered'
    this.metrics.processed.inc({ outcome: outcomeLabel })
    this.metrics.processingSeconds.observe({ outcome: outcomeLabel }, (performance.now() - started) / 1000)
    this.emit('processed', record, outcome)
    return outcome
  }

  /**
   * Marks the record's partition busy (handoff.ts) so that, if a rebalance moves the partition
   * while the handler runs, the new owner waits instead of running the record a second time.
   * False when the mark could not be written (a rebalance under way, or Kafka trouble).
   */
  async #markBusy(session: Session, record: WorkerRecord): Promise<boolean> {
    const timeout = this.settings.handoffTimeoutMs
    const memberId = session.consumer.memberId
    if (timeout === 0) return true
    if (!memberId) return false
    try {
      const marker = encodeBusyMarker({ memberId, until: Date.now() + timeout })
      await commitWithMetadata(session.consumer, this.settings.topic, record.partition, record.offset, marker)
      return true
    } catch (err) {
      this.log.debug(
        { event: 'busy-marker-failed', err: toUserError(err).message },
        'could not mark the partition busy'
      )
      return false
    }
  }

  /** Takes our busy mark off a partition we are not going to work on (same offset: nothing moves back). */
  async #clearBusy(session: Session, record: WorkerRecord): Promise<void> {
    if (this.settings.handoffTimeoutMs === 0) return
    await commitWithMetadata(session.consumer, this.settings.topic, record.partition, record.offset, '').catch(() => {})
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

  /**
   * The partition moved to another member while the handler ran. That member waits for us
   * (busy marker) as long as the group's committed offset is still this record's: then we
   * commit, and it starts after the record. If the offset moved, it did not wait (marker
   * missing or expired) and redoes the record; committing now could move its offset back.
   */
  async #commitAfterRevocation(session: Session, record: WorkerRecord): Promise<boolean> {
    const { topic, group } = this.settings
    const committed = (await readCommitted(this.#admin!, group, topic, [record.partition])).get(record.partition)
    const where = { partition: record.partition, offset: String(record.offset) }
    if (committed?.offset !== record.offset) {
      this.log.info(
        { event: 'revoked-mid-record', ...where },
        'partition moved to another member during the work and it went on; not committing'
      )
      return false
    }
    await commitWithMetadata(session.consumer, topic, record.partition, record.offset + 1n, '')
    this.log.info({ event: 'handed-off', ...where }, 'partition moved during the work; committed it for the new owner')
    return true
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
          { event: 'dlt-failed', err: toUserError(err).message, backoffMs: backoff },
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
      const unknown = partitions.filter((p) => !this.#lastDone.has(p))
      const committed =
        unknown.length > 0
          ? ((await session.consumer.listCommittedOffsets({ topics: [{ topic, partitions: unknown }] })).get(topic) ??
            [])
          : []
      for (const p of partitions) {
        const end = ends[p]
        if (end === undefined) continue
        const last = this.#lastDone.get(p)
        const position = last !== undefined ? last + 1n : (committed[p] ?? -1n)
        // No committed offset yet: with auto.offset.reset=earliest the whole log is lag (from offset 0 here).
        const lag = end - (position >= 0n ? position : 0n)
        this.metrics.lag.set({ topic, partition: String(p) }, Number(lag > 0n ? lag : 0n))
      }
    } catch (err) {
      this.log.debug({ event: 'lag-error', err: toUserError(err).message }, 'cannot read offsets for the lag gauge')
    }
  }
}
