/** What a simulation run gives back. Times are simulated ms since the run's start (t = 0). JSON-safe. */
import type { DecisionLogEntry } from '../autoscaler/types.ts'
import type { SimOptions } from './options.ts'

export interface SimConsumerStats {
  /** The client id the local backend gives its workers (lagscale-worker-N). */
  id: string
  /** When the backend was asked for it (a spawn; 0 for the initial consumers). */
  requestedMs: number
  /** When it joined the group (start-up over); absent if it was stopped before. */
  joinedMs?: number
  stopRequestedMs?: number
  /** When it left the group (after its running records) or was stopped while starting; absent: still running at the end. */
  leftMs?: number
  /** Requested to left (or to the end of the run): what it costs. */
  lifetimeMs: number
  /** Joined to left (or the end): in the group. */
  memberMs: number
  /** In the group with at least one record running. */
  busyMs: number
  /** In the group with nothing running (no partition, waiting for records, rebalance pauses). */
  idleMs: number
  /** Handler time of its records (equals busyMs with concurrency 1). */
  workMs: number
  records: number
}

/** One step of the consumer counts; holds until the next point. */
export interface SimConsumersPoint {
  t: number
  /** What the backend was last asked for. */
  desired: number
  /** Members of the group (joined, not left; stopping ones included until they leave). */
  running: number
  /** Processes alive: starting, in the group, or stopping. What the consumer-seconds count. */
  processes: number
}

/** Per-partition lag at one autoscaler tick (the observation the policy saw). */
export interface SimLagSample {
  t: number
  lag: number[]
  sumLag: number
}

export interface SimRebalance {
  /** When the membership change started a pause (or joined one under way). */
  t: number
  /** When the group works again, as far as known at the time. */
  untilMs: number
  members: number
}

export interface SimDecision extends DecisionLogEntry {
  /** Simulated ms of the decision (`at` is the epoch ms the policy saw). */
  t: number
}

export interface SimResult {
  options: SimOptions
  records: number
  /** Sum of every record's handler time. */
  workMs: number
  /** When the first record was produced; absent without records. */
  firstProducedMs?: number
  /** When the last record was committed: lag 0 for good. */
  drainedAtMs?: number
  /** drainedAtMs - firstProducedMs: the drain time; absent when the run ended before the drain. */
  drainMs?: number
  /** When the run ended: the drain with the pool back at min, settleMs after the drain, or maxDurationMs. */
  endMs: number
  /**
   * Why it ended: 'settled' (drained, the pool back at min), 'settle-timeout' (drained, but the pool
   * not back at min settleMs later), 'max-duration' (maxDurationMs reached first).
   */
  endReason: 'settled' | 'settle-timeout' | 'max-duration'
  /** True when maxDurationMs stopped the run before the backlog drained and the pool settled. */
  truncated: boolean
  /** The cost: every consumer's lifetime, in seconds. */
  consumerSeconds: number
  peak: { desired: number; running: number }
  rebalances: { count: number; pauseMs: number; log: SimRebalance[] }
  consumers: SimConsumerStats[]
  /** Step series of the consumer counts. */
  series: SimConsumersPoint[]
  /** Per-partition lag at every tick. */
  lag: SimLagSample[]
  /** The autoscaler's decision log: every change, and a hold when its reason differs from the line before. */
  decisions: SimDecision[]
  /** Ticks (decisions taken), including the holds the log leaves out. */
  ticks: number
}
