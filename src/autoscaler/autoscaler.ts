import { EventEmitter } from 'node:events'
import type { Logger } from '../log.ts'
import { assessHealth, HEALTH_DEFAULTS, type HealthOptions, healthKey } from './health.ts'
import { AutoscalerMetrics } from './metrics.ts'
import { parallelismPerPartition, type WorkerParallelism } from './parallelism.ts'
import type {
  AutoscalerSnapshot,
  BackendStatus,
  ConsumerHealth,
  DecisionLogEntry,
  Observation,
  Policy,
  ReplacementReport,
  ScalerState,
  ScalingBackend,
  ScalingLimits
} from './types.ts'

/** Where observations come from: the LagMonitor, or anything shaped like it (tests, replays). */
export interface ObservationSource {
  readonly options: { group: string }
  observe(): Promise<Observation>
}

export interface AutoscalerLoopOptions {
  monitor: ObservationSource
  policy: Policy
  policyName: string
  backend: ScalingBackend
  limits: ScalingLimits
  /** The workers' parallelism: the policies' parallelismPerPartition is derived from it per observation. */
  worker?: WorkerParallelism
  intervalMs: number
  logger: Logger
  /** Observations kept for the policies (they look back at most this far). */
  historyMs?: number
  /** Lines kept in the decision log. */
  decisionLogLimit?: number
  /** Called with every fresh observation (e.g. CloudWatch PutMetricData); failures are logged, not fatal. */
  publish?: (observation: Observation) => Promise<void>
  /** When consumers count as missing from the group, and partitions as stalled (default HEALTH_DEFAULTS). */
  health?: HealthOptions
  /** Ask the backend to replace unhealthy consumers, when it can (default true). */
  replaceUnhealthy?: boolean
}

export interface AutoscalerEvents {
  snapshot: [snapshot: AutoscalerSnapshot]
}

const DEFAULT_HISTORY_MS = 30 * 60_000

/**
 * The loop: observe the group's lag, ask the policy, tell the backend, and record why.
 * One tick at a time; a slow tick delays the next instead of overlapping it.
 */
export class Autoscaler extends EventEmitter<AutoscalerEvents> {
  readonly metrics: AutoscalerMetrics
  readonly #o: AutoscalerLoopOptions
  readonly #history: Observation[] = []
  readonly #decisions: DecisionLogEntry[] = []
  #state: ScalerState = { current: 0 }
  #status: BackendStatus = { desired: 0, running: 0 }
  /** Epoch ms (observation time) of the last scale or replacement: the health clocks restart there. */
  #lastChangeAt: number | undefined
  /** What the last logged decision line said, without growing durations (holds are logged on change). */
  #lastLogKey = ''
  #snapshot: AutoscalerSnapshot | undefined
  #timer: NodeJS.Timeout | undefined
  #running = false
  #tick: Promise<void> | undefined

  constructor(options: AutoscalerLoopOptions) {
    super()
    this.#o = options
    this.metrics = new AutoscalerMetrics({ group: options.monitor.options.group })
  }

  /** Takes the first decision at once, then one every interval. */
  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    await this.tick()
    this.#schedule()
  }

  #schedule(): void {
    if (!this.#running) return
    this.#timer = setTimeout(() => {
      void this.tick().finally(() => this.#schedule())
    }, this.#o.intervalMs)
  }

  /** One observe-decide-act round (exposed for tests and `--once`). */
  tick(): Promise<void> {
    this.#tick ??= this.#doTick().finally(() => {
      this.#tick = undefined
    })
    return this.#tick
  }

  async #doTick(): Promise<void> {
    const o = this.#o
    const observation = await o.monitor.observe()
    this.#remember(observation)
    this.metrics.observe(observation)
    if (!observation.stale && o.publish) {
      await o.publish(observation).catch((err: unknown) => {
        o.logger.warn({ event: 'publish-failed', err: (err as Error).message }, 'publishing metrics failed')
      })
    }
    try {
      this.#status = await o.backend.status()
    } catch (err) {
      o.logger.warn({ event: 'backend-status-failed', err: (err as Error).message }, 'cannot read the backend status')
    }
    this.#state = { ...this.#state, current: this.#status.desired }
    const health = assessHealth({
      history: this.#history,
      running: this.#status.running,
      ...(this.#status.expectedMembers ? { expectedMembers: this.#status.expectedMembers } : {}),
      ...(this.#lastChangeAt !== undefined ? { lastChangeAt: this.#lastChangeAt } : {}),
      options: o.health ?? HEALTH_DEFAULTS
    })
    const limits: ScalingLimits = o.worker
      ? {
          ...o.limits,
          parallelismPerPartition: parallelismPerPartition(o.worker, observation.stale ? undefined : observation),
          concurrencyPerConsumer: o.worker.concurrency
        }
      : o.limits
    const decision = o.policy({ now: observation.at, history: this.#history, state: this.#state, limits })
    let applied = false
    if (decision.desired !== this.#status.desired) {
      try {
        await o.backend.scaleTo(decision.desired, decision)
        applied = true
        this.#lastChangeAt = decision.at
        // Bringing the pool up to its first count at start is no scale-out to cool down from:
        // a backlog waiting at start must not wait out a cooldown too.
        const first = this.#state.lastDecision === undefined
        if (decision.desired > this.#status.desired) {
          if (!first) this.#state.lastScaleOutAt = decision.at
        } else this.#state.lastScaleInAt = decision.at
        this.#status = await o.backend.status()
      } catch (err) {
        o.logger.error({ event: 'scale-failed', err: (err as Error).message }, 'the backend refused to scale')
      }
    }
    // A scale this tick changes the group anyway: its rebalance may be what the consumers needed.
    const replacement = applied ? undefined : await this.#replace(health)
    this.#state.lastDecision = decision
    this.metrics.decided(decision)
    this.metrics.status(this.#status)
    this.metrics.health(health, replacement)
    // Holds are logged when they say something new: another reason, other consumers flagged, not a longer "for ... s".
    const key = JSON.stringify([decision.action, decision.reason, healthKey(health), replacement?.note])
    this.#log(withHealth({ ...decision, applied }, health, replacement), key)
    this.#snapshot = {
      at: observation.at,
      group: o.monitor.options.group,
      topics: observation.topics,
      policy: o.policyName,
      backend: o.backend.name,
      limits,
      intervalMs: o.intervalMs,
      observation,
      status: this.#status,
      health,
      decisions: [...this.#decisions]
    }
    this.emit('snapshot', this.#snapshot)
  }

  async #replace(health: ConsumerHealth): Promise<ReplacementReport | undefined> {
    const o = this.#o
    if (health.problems.length === 0 || o.replaceUnhealthy === false || !o.backend.replaceUnhealthy) return undefined
    try {
      const report = await o.backend.replaceUnhealthy(health)
      if (report && report.replaced.length > 0) {
        this.#lastChangeAt = health.at
        this.#status = await o.backend.status()
      }
      return report
    } catch (err) {
      o.logger.error(
        { event: 'replace-failed', err: (err as Error).message },
        'the backend could not replace consumers'
      )
      return undefined
    }
  }

  #remember(observation: Observation): void {
    this.#history.push(observation)
    const horizon = observation.at - (this.#o.historyMs ?? DEFAULT_HISTORY_MS)
    while (this.#history.length > 1 && this.#history[0]!.at < horizon) this.#history.shift()
  }

  /** Changes are always logged; a hold only when its key differs from the last line's. */
  #log(entry: DecisionLogEntry, key: string): void {
    const repeated = key === this.#lastLogKey
    this.#lastLogKey = key
    const log = this.#o.logger
    const fields = {
      event: 'decision',
      policy: entry.policy,
      action: entry.action,
      from: entry.from,
      desired: entry.desired,
      applied: entry.applied
    }
    if (entry.action !== 'hold') log.info(fields, `${entry.action} ${entry.from} -> ${entry.desired}: ${entry.reason}`)
    if (entry.action === 'hold' && repeated) return
    if (entry.action === 'hold') {
      if (entry.health) log.warn(fields, `hold at ${entry.desired}: ${entry.reason}`)
      else log.info(fields, `hold at ${entry.desired}: ${entry.reason}`)
    }
    this.#decisions.push(entry)
    const limit = this.#o.decisionLogLimit ?? 200
    if (this.#decisions.length > limit) this.#decisions.splice(0, this.#decisions.length - limit)
  }

  snapshot(): AutoscalerSnapshot | undefined {
    return this.#snapshot
  }

  subscribe(listener: (s: AutoscalerSnapshot) => void): () => void {
    this.on('snapshot', listener)
    return () => this.off('snapshot', listener)
  }

  get history(): readonly Observation[] {
    return this.#history
  }

  get decisions(): readonly DecisionLogEntry[] {
    return this.#decisions
  }

  /** Stops deciding (the backend keeps what it runs; close it separately). */
  async stop(): Promise<void> {
    this.#running = false
    clearTimeout(this.#timer)
    await this.#tick
  }
}

/** The decision with the consumers' health problems (and what the backend did) added to its reason. */
function withHealth(
  entry: DecisionLogEntry,
  health: ConsumerHealth,
  replacement: ReplacementReport | undefined
): DecisionLogEntry {
  if (health.problems.length === 0) return entry
  const notes = [...health.problems, ...(replacement ? [replacement.note] : [])]
  return {
    ...entry,
    reason: `${entry.reason}; but ${notes.join('; ')}`,
    health: {
      problems: health.problems,
      ...(health.missing ? { missing: health.missing.count } : {}),
      ...(health.stalled.length > 0 ? { stalled: health.stalled.length } : {}),
      ...(replacement && replacement.replaced.length > 0 ? { replaced: replacement.replaced } : {})
    }
  }
}
