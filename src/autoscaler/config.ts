import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { givenValue, int, topicName } from '../config-schema.ts'
import { ORDERINGS } from '../consumer/scheduler.ts'
import { usageError } from '../errors.ts'
import { HEALTH_DEFAULTS } from './health.ts'
import { drainOptionsSchema, kedaOptionsSchema, POLICY_NAMES, seedOptionsSchema } from './policy/index.ts'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `5s`, `500ms`, `2m`, `1h` or a number of milliseconds. */
export function durationMs(value: unknown): unknown {
  if (typeof value !== 'string') return value
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim())
  return match ? Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1)) : value
}

const duration = (min: number, max = 7 * 24 * 3_600_000) =>
  z.preprocess(
    durationMs,
    z
      .number({ error: 'must be a duration like 500ms, 5s, 2m or 1h' })
      .int()
      .min(min, { error: `must be at least ${min} ms` })
      .max(max, { error: `must be at most ${max} ms` })
  )

/** Policy option keys ending in `Ms` also take durations (`drainTargetMs: 60s`). */
const withDurations = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'object' || v === null) return v
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k.endsWith('Ms') ? durationMs(x) : x]))
  }, schema)

/**
 * Every autoscaler setting. The same keys come from a YAML/JSON config file (`--config`) and,
 * for the common ones, from flags; validated once here. Unknown keys are errors, so a typo
 * in a config file does not silently fall back to a default.
 */
export const autoscalerConfigSchema = z
  .strictObject({
    group: z.string().trim().min(1).default('group_id'),
    topics: z.preprocess(
      (v) => (typeof v === 'string' ? v.split(',').map((t) => t.trim()) : v),
      z.array(topicName).min(1, { error: 'name at least one topic' })
    ),
    /** Where partitions without a committed offset start: the consumers' auto.offset.reset. */
    resetPolicy: z.enum(['earliest', 'latest']).default('earliest'),
    min: int(0, 1_000_000).default(1),
    max: int(1, 1_000_000).default(8),
    policy: z.enum(POLICY_NAMES, { error: `must be one of ${POLICY_NAMES.join(', ')}` }).default('drain'),
    /** How often lag is read and a decision taken (CloudWatch's period is 60 s). */
    interval: duration(100).default(5000),
    /** No scale-out sooner than this after the last one: lets a rebalance settle before lag is judged again. */
    scaleOutCooldown: duration(0).default(10_000),
    /** No scale-in sooner than this after the last change. */
    scaleInCooldown: duration(0).default(60_000),
    /**
     * The workers' in-partition parallelism (`lagscale consumer --concurrency --ordering`): the
     * local backend passes them on; for other backends say what your workers run with, so the
     * policies know what one consumer gets done.
     */
    concurrency: int(1, 10_000).default(1),
    ordering: z.enum(ORDERINGS, { error: `must be one of ${ORDERINGS.join(', ')}` }).default('partition'),
    seed: withDurations(seedOptionsSchema).prefault({}),
    keda: withDurations(kedaOptionsSchema).prefault({}),
    drain: withDurations(drainOptionsSchema).prefault({}),
    /** Consumers missing from the group or stalled partitions (health.ts): when they count, and whether to replace. */
    health: z
      .strictObject({
        /** A consumer the backend runs may be out of the group this long (start-up, join, rebalance). */
        memberGrace: duration(0).default(HEALTH_DEFAULTS.memberGraceMs),
        /** A partition with lag whose committed offset stands still this long is stalled. */
        stallWindow: duration(1000).default(HEALTH_DEFAULTS.stallWindowMs),
        /** Let the backend replace such consumers (the local pool does; a dry run only reports). */
        replace: z.boolean().default(true)
      })
      .prefault({}),
    backend: z.enum(['local', 'ecs', 'dry-run']).default('dry-run'),
    local: z
      .strictObject({
        /** Extra arguments for each `lagscale consumer` (e.g. ["--work-unit-ms", "100"]). */
        consumerArgs: z.array(z.string()).default([]),
        /** SIGKILL a worker this long after SIGTERM if it has not exited. */
        killAfter: duration(1000).default(30_000),
        /** Warm standby workers kept ready beside the running ones, promoted first on scale-out. */
        standby: int(0, 64).default(1)
      })
      .prefault({}),
    ecs: z
      .strictObject({
        cluster: z.string().min(1),
        service: z.string().min(1),
        region: z.string().min(1).optional(),
        endpoint: z.url().optional()
      })
      .optional(),
    cloudwatch: z
      .strictObject({
        /** The MSK cluster name used as the "Cluster Name" dimension. */
        clusterName: z.string().min(1),
        namespace: z.string().min(1).optional(),
        region: z.string().min(1).optional(),
        endpoint: z.url().optional()
      })
      .optional(),
    dashboard: z
      .strictObject({
        enabled: z.boolean().default(true),
        port: int(0, 65535).default(8090),
        host: z.string().min(1).default('127.0.0.1')
      })
      .prefault({})
  })
  .refine((c) => c.min <= c.max, { message: 'must not be more than max', path: ['min'] })
  .refine((c) => c.backend !== 'ecs' || c.ecs !== undefined, {
    message: 'the ecs backend needs ecs.cluster and ecs.service (--ecs-cluster, --ecs-service)',
    path: ['ecs']
  })

export type AutoscalerConfigInput = z.input<typeof autoscalerConfigSchema>
export type AutoscalerConfig = z.output<typeof autoscalerConfigSchema>

/**
 * Validates a config; a bad value is a usage error naming the key (and the file, if any), or
 * the flag it came from (`names`: key -> flag, e.g. local.standby -> --standby).
 */
export function parseAutoscalerConfig(
  input: unknown,
  source = 'config',
  names: Readonly<Record<string, string>> = {}
): AutoscalerConfig {
  const result = autoscalerConfigSchema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const key = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const list = issue.keys.map((k) => (key ? `${key}.${k}` : k)).join(', ')
    throw usageError(`${source}: unknown key ${list}`)
  }
  const where = names[key] ?? (key ? `${source}: ${key}` : source)
  throw usageError(`${where}: ${issue.message}${givenValue(input, issue.path)}`)
}

/** Reads a YAML (or JSON) config file into a plain object; a missing or unparsable file is a clear error. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw usageError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  let parsed: unknown
  try {
    parsed = parseYaml(text)
  } catch (err) {
    throw usageError(`config file ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`)
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw usageError(`config file ${path} must be a mapping`)
  return parsed as Record<string, unknown>
}

/** Sets `value` at a dotted path in a plain object, creating sections on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== 'object' || next === null) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[keys.at(-1)!] = value
}
