/**
 * The experiment's shapes: what a case is, what the calibration measured, and what a case
 * measured on the real broker next to what the simulator predicted for it. Times are epoch ms
 * of this machine's clock in the raw events, and ms since the case's origin (the autoscaler tick
 * before the load was produced, the simulator's t = 0) in everything derived. JSON-safe.
 */
import type { PolicyName } from '../autoscaler/policy/index.ts'
import type { Ordering } from '../consumer/scheduler.ts'
import type { SimResult } from '../sim/index.ts'

/** One case of the matrix. */
export interface CaseSpec {
  /** Short and unique: p8-keda-100, p1-c8-drain-2000. */
  id: string
  partitions: number
  policy: PolicyName
  /** The load: this many records of the seeded values 0..10 (the seed's 100, or a larger one). */
  records: number
  concurrency: number
  ordering: Ordering
}

/** The clock of a run, from the work unit: the seed's minutes become seconds. */
export interface ExperimentTiming {
  workUnitMs: number
  /** workUnitMs / 1000: the seed ran 1000 ms per unit; its policy times are scaled by this. */
  scale: number
  intervalMs: number
  scaleOutCooldownMs: number
  scaleInCooldownMs: number
  min: number
  max: number
  /** The policies' own options, the same for the real autoscaler and the simulator. */
  policyOptions: Record<PolicyName, Record<string, unknown>>
}

/** What the calibration measured once on this machine and broker, for the simulator. */
export interface Calibration {
  /** Scale-out -> the group starts rebalancing for the new worker (process start + JoinGroup): the simulator's startupMs. */
  startupMs: number
  /** Rebalance start -> the last member has its new assignment: the simulator's rebalancePauseMs. */
  rebalancePauseMs: number
  /** One worker starting alone (a scale-out 1 -> 2 under load): spawn -> its first assignment (median of the rounds). */
  singleStartMs: number
  /** Per round: scale-out 1 -> N -> the last new worker's assignment. */
  scaleOutMs: number[]
  /** Per new worker of a 1 -> N scale-out: spawn -> its assignment in the final generation. */
  scaleOutJoinMs: number[]
  /** Per rebalance of the scale-out: first 'rebalance' line -> last 'assigned' line of the generation. */
  rebalanceMs: number[]
  /** SIGTERM -> exit of an idle worker. */
  stopMs: number
  workers: number
  measuredAt: string
}

/** One step of the consumer counts; holds until the next point. */
export interface ConsumersPoint {
  t: number
  /** What the backend was last asked for. */
  desired: number
  /** Members of the group: from their first assignment to their leaving. */
  running: number
  /** Processes alive (spawned, not exited): what the consumer-seconds count. */
  processes: number
}

export interface LagPoint {
  t: number
  /** Per partition. */
  lag: number[]
  sum: number
}

export interface ConsumerStats {
  /** The pool's worker id (worker-3; client id lagscale-worker-3). */
  id: string
  spawnedMs: number
  /** First assignment (in the group). */
  joinedMs?: number
  /** Asked to stop (scale-in). */
  stopRequestedMs?: number
  /** Left the group / exited. */
  leftMs?: number
  /** Spawn (or the origin) to exit (or the end): what it costs. */
  lifetimeMs: number
  /** Joined to left (or the end). */
  memberMs: number
  /** In the group with at least one record running. */
  busyMs: number
  idleMs: number
  /** Handler time of its records (sum of END - START). */
  workMs: number
  records: number
  /** The partitions it was ever assigned. */
  partitions: number[]
}

export interface RebalanceStats {
  generation: number
  /** When the members learned of it (first 'rebalance' line; else the first 'assigned' line). */
  startMs: number
  /** The last member of the generation logged its assignment. */
  endMs: number
  pauseMs: number
  members: number
}

/** What a case measured on the real broker. */
export interface Measured {
  records: number
  /** Distinct records finished; a record run twice counts once here and in `redone`. */
  finished: number
  redone: number
  workMs: number
  /** Produced -> the last record finished (its commit follows within milliseconds). */
  drainMs?: number
  /** The first autoscaler observation with lag 0 after the drain (coarse: one per interval). */
  lagZeroObservedMs?: number
  consumerSeconds: number
  peak: { desired: number; running: number }
  rebalances: { count: number; pauseMs: number; log: RebalanceStats[] }
  consumers: ConsumerStats[]
  series: ConsumersPoint[]
  /** From the workers' logs: every change of any partition's lag (the committed watermark). */
  lag: LagPoint[]
  /** What the autoscaler's monitor saw, one point per tick. */
  observedLag: LagPoint[]
  decisions: { t: number; action: string; from: number; desired: number; reason: string }[]
  /** When the case ended (drained and the pool back at min, or the settle limit). */
  endMs: number
  endReason: 'settled' | 'settle-timeout'
}

export interface LowerBound {
  /** max(longestRecordMs, heaviestPartitionMs, totalWork / usableParallelism) + detectionMs. */
  ms: number
  longestRecordMs: number
  /** Records of one partition run one after another (ordering partition): its total work. */
  heaviestPartitionMs?: number
  usableParallelism: number
  workMs: number
  /** The autoscaler's interval, when reaching that parallelism needs a scale-out; else 0. */
  detectionMs: number
}

export interface Prediction {
  drainMs?: number
  consumerSeconds: number
  peak: { desired: number; running: number }
  rebalances: { count: number; pauseMs: number }
  /** (predicted - measured) / measured x 100 for the drain time. */
  drainErrorPct?: number
  series: SimResult['series']
  consumers: SimResult['consumers']
  /** The simulated monitor's per-partition lag, one point per tick. */
  lag: LagPoint[]
  endMs: number
}

export interface CaseResult {
  spec: CaseSpec
  topic: string
  group: string
  /** Epoch ms of the origin (the tick before the load): t = 0 of every series here and in the simulation. */
  originEpochMs: number
  /** The load was produced this long after the origin (the simulator's burstAtMs). */
  producedAtMs: number
  /** How long the produce request took (send -> acknowledged). */
  produceMs: number
  values: number[]
  /** The autoscaler loop's period before the load (interval + a tick's own time): the simulator's interval. */
  loopPeriodMs: number
  measured: Measured
  bound: LowerBound
  predicted: Prediction
  /**
   * After the fact, not a prediction: the simulation again with this case's own start-up (its new
   * workers' median spawn -> assignment, less the calibrated pause), to tell the model's error from
   * the start-up estimate's. Absent when the case started no worker.
   */
  replayed?: { startupMs: number; drainMs?: number; drainErrorPct?: number; consumerSeconds: number }
  wallMs: number
}
