/**
 * The shapes shared by the lag monitor (I/O), the policies (pure), the backends and
 * the dashboard. Offsets and lags are plain numbers here, not bigints: they are
 * below 2^53 in any real cluster, the policies do arithmetic on them, and the
 * dashboard sends them as JSON.
 */

/** Where the lag of a partition is counted from. */
export type LagOrigin = 'committed' | 'earliest' | 'latest'

export interface PartitionObservation {
  topic: string
  partition: number
  logStartOffset: number
  logEndOffset: number
  /** undefined: the group has not committed on this partition. */
  committedOffset?: number
  /** Records not yet consumed: log end minus (committed, or the reset policy's start when none). */
  lag: number
  /** 'committed', or the reset policy used because nothing is committed (KEDA does the same). */
  lagFrom: LagOrigin
  /** Records per second the group committed on this partition since the previous observation. */
  consumeRate?: number
  /** Records per second appended to this partition since the previous observation. */
  produceRate?: number
  /** How old the oldest unconsumed record is (now - its timestamp), 0 when there is no lag. */
  timeLagMs: number
  /** The member that owns the partition now (client id), if the group has one. */
  owner?: string
  /** Distinct keys among a sample of the oldest unconsumed records (keyless records count as one key). */
  sampledKeys?: number
}

export interface GroupMemberObservation {
  memberId: string
  clientId: string
  host: string
  partitions: { topic: string; partition: number }[]
}

export interface Observation {
  /** Epoch ms when the observation was taken. */
  at: number
  group: string
  topics: string[]
  /** Every partition of every topic, sorted by topic then partition. */
  partitions: PartitionObservation[]
  /** MSK's SumOffsetLag. */
  sumOffsetLag: number
  /** MSK's MaxOffsetLag. */
  maxOffsetLag: number
  /** MSK's EstimatedMaxTimeLag, in ms. */
  maxTimeLagMs: number
  /** Group state as Kafka reports it ('Stable', 'Empty', 'PreparingRebalance', ...; 'Dead' when the group does not exist). */
  groupState: string
  members: GroupMemberObservation[]
  /**
   * True when this observation could not be taken (broker unreachable, timeout): it repeats
   * the last good data so charts stay continuous, and policies must not scale on it.
   */
  stale: boolean
  error?: string
}

/** What the autoscaler knows about the consumers and its own past actions. */
export interface ScalerState {
  /** Consumers the backend runs (or was last asked to run) right now. */
  current: number
  /** Epoch ms of the last scale-out / scale-in this autoscaler made. */
  lastScaleOutAt?: number
  lastScaleInAt?: number
  /** The previous decision, if any. */
  lastDecision?: Decision
}

/** Limits every policy obeys. */
export interface ScalingLimits {
  min: number
  max: number
  /** No scale-out sooner than this after the last scale-out. */
  scaleOutCooldownMs: number
  /** No scale-in sooner than this after the last scale (either way). */
  scaleInCooldownMs: number
  /**
   * Records of one partition a consumer works at once: 1 for classic processing (ordering
   * `partition`); with in-partition parallelism, the worker's concurrency (`unordered`) or
   * min(concurrency, distinct keys in the backlog) (`key`). A partition still goes to one
   * consumer, so this never raises the partition cap on consumers; it raises what each
   * consumer gets done.
   */
  parallelismPerPartition: number
  /** Records one consumer works at once over all its partitions (the worker's --concurrency); default 1. */
  concurrencyPerConsumer?: number
}

export type DecisionAction = 'scale-out' | 'scale-in' | 'hold'

export interface PartitionCap {
  /** What the policy wanted before the cap. */
  uncapped: number
  /** Consumers that can get work: partitions (with lag, when the policy counts only those) x parallelism. */
  usable: number
  /** Partitions that would meet the policy's goal, when more partitions would help. */
  recommendedPartitions?: number
}

export interface Decision {
  /** Epoch ms (the policy input's `now`). */
  at: number
  policy: string
  desired: number
  /** The count the decision started from (state.current). */
  from: number
  action: DecisionAction
  /** One or two sentences a person can read: why this count. */
  reason: string
  /** Set when the partition cap lowered the count. */
  cap?: PartitionCap
  /** Set when the max (or min) bound changed the count. */
  bound?: 'min' | 'max'
  /** Predicted time to drain the current backlog with `desired` consumers, when the policy can estimate it. */
  estimatedDrainMs?: number
}

export interface PolicyInput {
  now: number
  /** Observations, oldest first; the last is the newest. May include stale ones. */
  history: readonly Observation[]
  state: ScalerState
  limits: ScalingLimits
}

/** A scaling policy: pure, deterministic, no I/O. */
export type Policy = (input: PolicyInput) => Decision

/** A consumer the backend runs and expects in the group, known by its Kafka client id. */
export interface ExpectedMember {
  clientId: string
  /** Epoch ms since when it should be in the group (spawned, or promoted from standby). */
  since: number
}

/** What a backend reports about the consumers it runs. */
export interface BackendStatus {
  /** What it was last asked for. */
  desired: number
  /** What actually runs (processes alive, ECS runningCount). */
  running: number
  /**
   * The running consumers by client id, when the backend knows them (the local pool): the health
   * check then names the ones missing from the group instead of only counting them.
   */
  expectedMembers?: ExpectedMember[]
  /** Extra, backend-specific, shown on the dashboard (e.g. pids, ECS deployment state). */
  detail?: Record<string, unknown>
}

/** Consumers the backend runs that have been out of the group for longer than the grace. */
export interface MissingConsumers {
  count: number
  /** Consumers the backend runs. */
  running: number
  /** Their client ids, when the backend knows them. */
  clientIds?: string[]
  /** How long all of them have been out of the group, at least. */
  forMs: number
}

/** A partition with lag whose committed offset has not moved for a whole window (Burrow's stall rule). */
export interface StalledPartition {
  topic: string
  partition: number
  /** The offset that does not move; undefined when the group never committed on the partition. */
  committedOffset?: number
  /** How long it has not moved (lag > 0 all along), at least the stall window. */
  forMs: number
  /** Lag when the offset was first seen there, and now. */
  lagBefore: number
  lag: number
  /** The member (client id) that held the partition all that time, if one did. */
  owner?: string
}

/** Whether the consumers the backend runs are in the group and consuming. Pure verdict of health.ts. */
export interface ConsumerHealth {
  at: number
  /** Why no verdict is possible now (stale lag data, a rebalance under way); nothing is flagged then. */
  pending?: string
  missing?: MissingConsumers
  stalled: StalledPartition[]
  /** One sentence per problem, in the user's words; empty when there is none. */
  problems: string[]
}

/** What a backend did about unhealthy consumers. */
export interface ReplacementReport {
  /** The consumers stopped and started anew (client ids); empty when none was (backoff, dry run). */
  replaced: string[]
  /** For the decision log: what was done, or why not. */
  note: string
}

/** Where consumers run: a local process pool, an ECS service, or nowhere (dry run). */
export interface ScalingBackend {
  readonly name: string
  status(): Promise<BackendStatus>
  /** Asks for `desired` consumers; resolves once the request is accepted (not necessarily running). */
  scaleTo(desired: number, decision: Decision): Promise<void>
  /**
   * Optional: replace consumers the health check found out of the group or owning stalled
   * partitions. Called with each verdict that has problems; the backend picks what it can act
   * on and paces itself (a backoff), so this never becomes a restart storm. Backends without
   * it (ECS: the container health check restarts tasks) only report.
   */
  replaceUnhealthy?(health: ConsumerHealth): Promise<ReplacementReport | undefined>
  close(): Promise<void>
}

/** One line of the decision log. */
export interface DecisionLogEntry extends Decision {
  /** Whether the backend was asked to change (false for holds and dry runs). */
  applied: boolean
  /** The consumers' health problems at that moment (their sentences are in the reason too). */
  health?: { problems: string[]; missing?: number; stalled?: number; replaced?: string[] }
}

/** Everything the dashboard shows, at one moment. JSON-safe. */
export interface AutoscalerSnapshot {
  at: number
  group: string
  topics: string[]
  policy: string
  backend: string
  limits: ScalingLimits
  intervalMs: number
  observation?: Observation
  status: BackendStatus
  /** The consumers' health verdict for this observation. */
  health?: ConsumerHealth
  /** Newest last, bounded. */
  decisions: DecisionLogEntry[]
}
