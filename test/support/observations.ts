/**
 * Hand-built lag observations and policy inputs for the autoscaler's tests: what the lag
 * monitor would report, without a broker.
 */
import type { ObservationSource } from '../../src/autoscaler/autoscaler.ts'
import type {
  Observation,
  PartitionObservation,
  PolicyInput,
  ScalerState,
  ScalingLimits
} from '../../src/autoscaler/types.ts'

/** A minute boundary (CloudWatch periods start here). */
export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0)
/** The seed's topic and group. */
export const TOPIC = 'Topic_from_java'
export const GROUP = 'group_id'

/** 1 to 8 consumers, no cooldowns, one consumer per partition. */
export const LIMITS: ScalingLimits = {
  min: 1,
  max: 8,
  scaleOutCooldownMs: 0,
  scaleInCooldownMs: 0,
  parallelismPerPartition: 1
}

/** LIMITS with some of them changed. */
export const limits = (overrides: Partial<ScalingLimits> = {}): ScalingLimits => ({ ...LIMITS, ...overrides })

/** Partition `partition` of TOPIC, committed at 1000 with `lag` records after it; `fields` override any of that. */
export const partitionObservation = (
  partition: number,
  lag: number,
  fields: Partial<PartitionObservation> = {}
): PartitionObservation => ({
  topic: TOPIC,
  partition,
  logStartOffset: 0,
  logEndOffset: 1000 + lag,
  committedOffset: 1000,
  lag,
  lagFrom: 'committed',
  timeLagMs: 0,
  ...fields
})

/** A good observation of GROUP over `partitions`: topics, sums and maximums computed from them. */
export const observationOf = (
  at: number,
  partitions: PartitionObservation[],
  extra: Partial<Observation> = {}
): Observation => ({
  at,
  group: GROUP,
  topics: [...new Set(partitions.map((p) => p.topic))],
  partitions,
  sumOffsetLag: partitions.reduce((s, p) => s + p.lag, 0),
  maxOffsetLag: Math.max(0, ...partitions.map((p) => p.lag)),
  maxTimeLagMs: Math.max(0, ...partitions.map((p) => p.timeLagMs)),
  groupState: 'Stable',
  members: [],
  stale: false,
  ...extra
})

/** Lags on partitions 0..n-1 of TOPIC, each partition with `fields`. */
export const observation = (
  at: number,
  lags: number[],
  fields: Partial<PartitionObservation> = {},
  extra: Partial<Observation> = {}
): Observation =>
  observationOf(
    at,
    lags.map((lag, i) => partitionObservation(i, lag, fields)),
    extra
  )

/** What a policy gets: `now` defaults to the newest observation's time (T0 without one). */
export const policyInput = (
  history: Observation[],
  state: ScalerState,
  overrides: Partial<ScalingLimits> = {},
  now = history.at(-1)?.at ?? T0
): PolicyInput => ({ now, history, state, limits: limits(overrides) })

/** Hands out the observations it is given, one per observe(), as the lag monitor would. */
export class ScriptedSource implements ObservationSource {
  readonly options: { group: string }
  readonly #queue: Observation[]
  constructor(observations: Observation[], group = GROUP) {
    this.options = { group }
    this.#queue = [...observations]
  }
  async observe(): Promise<Observation> {
    const next = this.#queue.shift()
    if (!next) throw new Error('no more observations scripted')
    return next
  }
}
