/**
 * Options of each policy: zod schemas (a CLI flag or a config file value is validated once,
 * with a message naming the option), their output types and defaults.
 */
import { z } from 'zod'
import { givenValue, int } from '../../config-schema.ts'
import { usageError } from '../../errors.ts'
import { ASSIGNORS } from './assignors.ts'

const ms = () => int(0, 7 * 24 * 3_600_000)

/** true/false, or the strings 'true'/'false'/'1'/'0'/'yes'/'no' from a flag or env variable. */
const flag = () => z.union([z.boolean(), z.stringbool()], { error: 'must be true or false' })

const fraction = (min: number, max: number, minInclusive: boolean) =>
  z.coerce.number({ error: 'must be a number' }).refine((x) => (minInclusive ? x >= min : x > min) && x <= max, {
    error: `must be ${minInclusive ? 'at least' : 'more than'} ${min} and at most ${max}`
  })

/** Shared by every policy. */
const common = {
  /** An observation older than this (now - at) counts as stale: no scaling on it. */
  maxDataAgeMs: int(1).default(120_000)
}

/** The seed's CloudWatch alarms + Application Auto Scaling step scaling on MSK SumOffsetLag. */
export const seedOptionsSchema = z.strictObject({
  ...common,
  /** CloudWatch period of one datapoint (statistic: Maximum). */
  datapointMs: int(1000).default(60_000),
  /** Out alarm: SumOffsetLag > this. */
  scaleOutThreshold: int(0).default(0),
  /** Out alarm: that many datapoints in a row breaching. */
  scaleOutDatapoints: int(1, 100).default(1),
  /** Step adjustment ExactCapacity of the out alarm. */
  scaleOutTo: int(0).default(8),
  /** In alarm: SumOffsetLag <= this. */
  scaleInThreshold: int(0).default(0),
  scaleInDatapoints: int(1, 100).default(5),
  /** Step adjustment ExactCapacity of the in alarm (then raised to limits.min if lower). */
  scaleInTo: int(0).default(1),
  /** Run the seed as it was: no partition cap (reproduces 8 consumers on 1 partition, 7 idle). */
  ignorePartitionCap: flag().default(false)
})

/** KEDA's apache-kafka scaler (trigger metadata names) + the HPA it drives. */
export const kedaOptionsSchema = z
  .strictObject({
    ...common,
    lagThreshold: int(1).default(10),
    activationLagThreshold: int(0).default(0),
    allowIdleConsumers: flag().default(false),
    limitToPartitionsWithLag: flag().default(false),
    ensureEvenDistributionOfPartitions: flag().default(false),
    excludePersistentLag: flag().default(false),
    scaleToZeroOnInvalidOffset: flag().default(false),
    /** HPA behavior.scaleDown.stabilizationWindowSeconds, in ms (scale-up window is 0, the HPA default). */
    stabilizationWindowMs: ms().default(300_000),
    /** KEDA cooldownPeriod: how long after the last active observation it scales to zero (limits.min 0). */
    cooldownPeriodMs: ms().default(300_000),
    /** HPA tolerance: no change while |metric / (target x current) - 1| <= this. */
    tolerance: fraction(0, 1, true).default(0.1),
    /** HPA default scale-up policies (selectPolicy Max): +100 % or +4 pods per 15 s. */
    scaleUpPercent: int(1).default(100),
    scaleUpPods: int(1).default(4),
    scaleUpPeriodMs: ms().default(15_000)
  })
  .refine((o) => !(o.allowIdleConsumers && o.limitToPartitionsWithLag), {
    error: 'allowIdleConsumers and limitToPartitionsWithLag cannot be set simultaneously (as in KEDA)',
    path: ['limitToPartitionsWithLag']
  })
  .refine((o) => !(o.limitToPartitionsWithLag && o.ensureEvenDistributionOfPartitions), {
    error: 'limitToPartitionsWithLag and ensureEvenDistributionOfPartitions cannot be set simultaneously (as in KEDA)',
    path: ['ensureEvenDistributionOfPartitions']
  })

/** lagscale's own policy: the fewest consumers that drain the backlog within a target time. */
export const drainOptionsSchema = z.strictObject({
  ...common,
  /** Drain the current backlog within this. */
  drainTargetMs: int(1000).default(60_000),
  /** Work time per record when none could be measured (the seed's handler: 1000 ms per unit). */
  recordTimeMs: z.coerce.number({ error: 'must be a number' }).positive({ error: 'must be more than 0' }).default(1000),
  /** How far back to measure the work time per record. */
  measureWindowMs: int(1000).default(300_000),
  /** The group's partition assignor (@platformatic/kafka: roundrobin). */
  assignor: z.enum(ASSIGNORS, { error: `must be one of ${ASSIGNORS.join(', ')}` }).default('roundrobin'),
  /** What every scale step costs: the group stops while it rebalances. */
  rebalancePauseMs: ms().default(3000),
  /** Scale in only when the smaller count drains within this fraction of the target. */
  scaleInMargin: fraction(0, 1, false).default(0.8)
})

export type SeedOptions = z.output<typeof seedOptionsSchema>
export type SeedOptionsInput = z.input<typeof seedOptionsSchema>
export type KedaOptions = z.output<typeof kedaOptionsSchema>
export type KedaOptionsInput = z.input<typeof kedaOptionsSchema>
export type DrainOptions = z.output<typeof drainOptionsSchema>
export type DrainOptionsInput = z.input<typeof drainOptionsSchema>

export const POLICY_NAMES = ['seed', 'keda', 'drain'] as const
export type PolicyName = (typeof POLICY_NAMES)[number]

export const policyOptionsSchemas = {
  seed: seedOptionsSchema,
  keda: kedaOptionsSchema,
  drain: drainOptionsSchema
} as const

export interface PolicyOptionsByName {
  seed: SeedOptions
  keda: KedaOptions
  drain: DrainOptions
}

export interface PolicyOptionsInputByName {
  seed: SeedOptionsInput
  keda: KedaOptionsInput
  drain: DrainOptionsInput
}

export const SEED_DEFAULTS: Readonly<SeedOptions> = Object.freeze(seedOptionsSchema.parse({}))
export const KEDA_DEFAULTS: Readonly<KedaOptions> = Object.freeze(kedaOptionsSchema.parse({}))
export const DRAIN_DEFAULTS: Readonly<DrainOptions> = Object.freeze(drainOptionsSchema.parse({}))

/**
 * Validates a policy's options, filling in defaults. A bad value is a usage error (exit 2)
 * naming every bad option, e.g. `keda policy: lagThreshold: must be at least 1; got 0`.
 */
export function parsePolicyOptions<N extends PolicyName>(name: N, input: unknown = {}): PolicyOptionsByName[N] {
  if (!(POLICY_NAMES as readonly string[]).includes(name)) {
    throw usageError(`unknown policy ${JSON.stringify(name)}: use one of ${POLICY_NAMES.join(', ')}`)
  }
  const result = policyOptionsSchemas[name].safeParse(input ?? {})
  if (result.success) return result.data as PolicyOptionsByName[N]
  const messages = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.')
    return key ? `${key}: ${issue.message}${givenValue(input, issue.path)}` : issue.message
  })
  throw usageError(`${name} policy: ${messages.join('; ')}`)
}
