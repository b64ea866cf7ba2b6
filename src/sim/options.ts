/**
 * The simulator's options: one zod schema, validated once, like the autoscaler's config
 * (src/autoscaler/config.ts). Durations take `500ms`, `5s`, `2m`, `1h` or milliseconds.
 * Defaults are the seed's scenario as `lagscale up --partitions 1` runs it: 100 records of
 * 0..10 work units on one partition, 1..8 consumers, the drain policy.
 */
import { z } from 'zod'
import { durationMs } from '../autoscaler/config.ts'
import { ASSIGNORS, POLICY_NAMES } from '../autoscaler/policy/index.ts'
import { givenValue, int, topicName } from '../config-schema.ts'
import { ORDERINGS } from '../consumer/scheduler.ts'
import { usageError } from '../errors.ts'

const DAY_MS = 24 * 3_600_000

const duration = (min: number, max = 30 * DAY_MS) =>
  z.preprocess(
    durationMs,
    z
      .number({ error: 'must be a duration like 500ms, 5s, 2m or 1h' })
      .int({ error: 'must be a whole number of ms' })
      .min(min, { error: `must be at least ${min} ms` })
      .max(max, { error: `must be at most ${max} ms` })
  )

const number = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })

/** More records than this would make a run slow and its JSON huge; the model is per record. */
export const MAX_RECORDS = 2_000_000

export const simOptionsSchema = z
  .strictObject({
    topic: topicName.default('Topic_from_java'),
    group: z.string().trim().min(1).default('group_id'),
    partitions: int(1, 10_000).default(1),
    /** The burst: this many records of random values 0..valueMax (the seed's "send 100 messages"). */
    records: int(0, MAX_RECORDS).default(100),
    /** The burst's values instead of random ones (records is then ignored). */
    values: z.array(int(0, 1_000_000)).max(MAX_RECORDS).optional(),
    valueMax: int(0, 1_000_000).default(10),
    /** When the burst is produced. */
    burstAtMs: duration(0).default(0),
    /** A constant load besides the burst: records per second (random values), from rateStartMs for rateDurationMs. */
    rate: number(0, 1_000_000).default(0),
    rateStartMs: duration(0).default(0),
    rateDurationMs: duration(0).default(0),
    /**
     * The partition of the first record; then round robin (record i to (first + i) % partitions).
     * The real producer starts at a random partition; 0 keeps runs easy to check by hand.
     */
    firstPartition: int(0).default(0),
    /** The seed's handler: a record of value v takes v x this. */
    workUnitMs: number(0, 3_600_000).default(1000),
    /** From the backend's scale-out to the consumer in the group (process start + group join). */
    startupMs: duration(0).default(1500),
    /**
     * The part of a start-up that loads on cores shared by every consumer loading at that
     * moment (at most startupMs): n started together each take startupMs + (n - 1) x this, and
     * one spawned while others load slows them too (a scale-out 1 -> 8 starts 7 together).
     */
    startupPerConcurrentMs: duration(0).default(0),
    /** What a change in a working group's membership costs: no consumer starts a record meanwhile. */
    rebalancePauseMs: duration(0).default(3000),
    /** Consumers in the group before the first decision (0: the autoscaler starts the pool, as `lagscale up` does). */
    initialConsumers: int(0, 10_000).default(0),
    min: int(0, 10_000).default(1),
    max: int(1, 10_000).default(8),
    policy: z.enum(POLICY_NAMES, { error: `must be one of ${POLICY_NAMES.join(', ')}` }).default('drain'),
    /** The policy's own options (createPolicy validates them); keys ending in Ms take durations. */
    policyOptions: z.record(z.string(), z.unknown()).default({}),
    intervalMs: duration(100).default(5000),
    scaleOutCooldownMs: duration(0).default(10_000),
    scaleInCooldownMs: duration(0).default(60_000),
    concurrency: int(1, 10_000).default(1),
    ordering: z.enum(ORDERINGS, { error: `must be one of ${ORDERINGS.join(', ')}` }).default('partition'),
    assignor: z.enum(ASSIGNORS, { error: `must be one of ${ASSIGNORS.join(', ')}` }).default('roundrobin'),
    /** The seed of the pseudo-random values: the same seed gives the same run. */
    seed: int(0, 2 ** 32 - 1).default(1),
    /** The simulated clock's epoch ms at time 0 (observations and decisions carry epoch times). */
    startEpochMs: int(0).default(Date.UTC(2025, 0, 1)),
    /** After the drain, stop this long later at the latest even if the pool never gets back to min. */
    settleMs: duration(0).default(30 * 60_000),
    /** Hard stop of simulated time (a run that never drains ends here, truncated). */
    maxDurationMs: duration(1000).default(DAY_MS),
    /** Observations kept for the policies (the autoscaler keeps 30 min). */
    historyMs: duration(1000).default(30 * 60_000)
  })
  .refine((o) => o.min <= o.max, { message: 'must not be more than max', path: ['min'] })
  .refine((o) => o.rate === 0 || o.rateDurationMs > 0, {
    message: 'a rate needs a duration (rateDurationMs)',
    path: ['rateDurationMs']
  })
  .refine((o) => (o.values?.length ?? o.records) + Math.floor((o.rate * o.rateDurationMs) / 1000) <= MAX_RECORDS, {
    message: `the burst and the rate make more than ${MAX_RECORDS} records`,
    path: ['records']
  })

export type SimOptionsInput = z.input<typeof simOptionsSchema>
export type SimOptions = z.output<typeof simOptionsSchema>

/**
 * Validates the options, filling in defaults. A bad value is a usage error (exit 2) naming the
 * option; `names` renames keys in the message (the CLI names its flags: `--partitions: must be at least 1`).
 */
export function parseSimOptions(input: unknown, names: Readonly<Record<string, string>> = {}): SimOptions {
  const result = simOptionsSchema.safeParse(input ?? {})
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const key = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    throw usageError(`simulate: unknown option ${issue.keys.map((k) => (key ? `${key}.${k}` : k)).join(', ')}`)
  }
  const top = String(issue.path[0] ?? '')
  const name = names[top] ?? key
  throw usageError(`simulate: ${name ? `${name}: ` : ''}${issue.message}${givenValue(input, issue.path)}`)
}

/** Policy option keys ending in `Ms` take durations (`drainTargetMs: 60s`), as in the autoscaler's config. */
export function withDurations(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, k.endsWith('Ms') ? durationMs(v) : v]))
}
