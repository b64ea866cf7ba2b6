import { z } from 'zod'
import { givenValue, int, topicName } from '../config-schema.ts'
import { usageError } from '../errors.ts'
import { ORDERINGS } from './scheduler.ts'

/** The seed's names (S18): topic `Topic_from_java`, group `group_id`, port 8081. */
export const DEFAULT_TOPIC = 'Topic_from_java'
export const DEFAULT_GROUP = 'group_id'
export const DEFAULT_PORT = 8081

/**
 * Every setting of a consumer worker, validated once here and then passed down as it is:
 * nothing below reads the environment.
 */
export const workerSettingsSchema = z
  .object({
    topic: topicName.default(DEFAULT_TOPIC),
    group: z.string().trim().min(1).default(DEFAULT_GROUP),
    /** HTTP port for health and metrics; 0 picks a free one. */
    port: int(0, 65535).default(DEFAULT_PORT),
    host: z.string().min(1).default('0.0.0.0'),
    /** The default handler sleeps value x workUnitMs per record (the seed: 1000). */
    workUnitMs: int(0, 3_600_000).default(1000),
    /** Largest value the default handler accepts; larger, negative or non-integer values are poison. */
    maxWorkUnits: int(0, 1_000_000).default(3600),
    /** Handler attempts per record before it goes to the dead-letter topic. */
    maxAttempts: int(1, 100).default(3),
    retryBackoffMs: int(0, 600_000).default(200),
    retryBackoffMaxMs: int(0, 600_000).default(5000),
    /** After SIGTERM, how long the current record may still run before it is abandoned (not committed). */
    shutdownGraceMs: int(0, 600_000).default(20_000),
    sessionTimeoutMs: int(1000, 600_000).default(10_000),
    /**
     * Also how soon a working member notices a rebalance (its next heartbeat): most of the
     * pause a scale step costs (bench:scale: rebalances 0.1-1.0 s at 1000 ms).
     */
    heartbeatIntervalMs: int(100, 60_000).default(500),
    /** How often the worker reads log-end offsets for its lag gauge. */
    lagIntervalMs: int(100, 600_000).default(5000),
    /**
     * Partition handoff (handoff.ts): a member given a partition waits up to this long for the
     * previous owner to finish the record it is working on. 0 turns the busy markers off.
     */
    handoffTimeoutMs: int(0, 3_600_000).default(30_000),
    /** Records worked on at once (in-partition parallelism with ordering key or unordered). */
    concurrency: int(1, 10_000).default(1),
    /** partition: a partition's records one at a time; key: per key; unordered: any. */
    ordering: z.enum(ORDERINGS, { error: `must be one of ${ORDERINGS.join(', ')}` }).default('partition'),
    /**
     * When the topic does not exist: create it with this many partitions (replication factor:
     * the brokers, up to 3) instead of failing. 0 (the default): a missing topic is an error.
     * For a first deploy where nothing else creates it (MSK does not create topics on use).
     */
    createTopicPartitions: int(0, 100_000).default(0),
    /** Dead-letter topic; default `<topic>.DLT`. */
    dltTopic: topicName.optional(),
    /** Path of a module whose default export (or `handle`) replaces the seed's handler. */
    handler: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
  })
  .refine((s) => s.heartbeatIntervalMs < s.sessionTimeoutMs, {
    message: 'must be less than the session timeout',
    path: ['heartbeatIntervalMs']
  })
  .transform((s) => ({ ...s, dltTopic: s.dltTopic ?? `${s.topic}.DLT` }))
  .refine((s) => s.dltTopic !== s.topic, { message: 'must differ from the topic', path: ['dltTopic'] })

export type WorkerSettingsInput = z.input<typeof workerSettingsSchema>
export type WorkerSettings = z.output<typeof workerSettingsSchema>

/** Flag (CLI spelling), environment variable, settings key. */
export const SETTING_SOURCES = [
  ['--topic', 'TOPIC', 'topic'],
  ['--group', 'GROUP_ID', 'group'],
  ['--port', 'PORT', 'port'],
  ['--host', 'HOST', 'host'],
  ['--work-unit-ms', 'WORK_UNIT_MS', 'workUnitMs'],
  ['--max-work-units', 'MAX_WORK_UNITS', 'maxWorkUnits'],
  ['--max-attempts', 'MAX_ATTEMPTS', 'maxAttempts'],
  ['--retry-backoff-ms', 'RETRY_BACKOFF_MS', 'retryBackoffMs'],
  ['--retry-backoff-max-ms', 'RETRY_BACKOFF_MAX_MS', 'retryBackoffMaxMs'],
  ['--shutdown-grace-ms', 'SHUTDOWN_GRACE_MS', 'shutdownGraceMs'],
  ['--session-timeout-ms', 'SESSION_TIMEOUT_MS', 'sessionTimeoutMs'],
  ['--heartbeat-interval-ms', 'HEARTBEAT_INTERVAL_MS', 'heartbeatIntervalMs'],
  ['--lag-interval-ms', 'LAG_INTERVAL_MS', 'lagIntervalMs'],
  ['--handoff-timeout-ms', 'HANDOFF_TIMEOUT_MS', 'handoffTimeoutMs'],
  ['--concurrency', 'CONCURRENCY', 'concurrency'],
  ['--ordering', 'ORDERING', 'ordering'],
  ['--create-topic-partitions', 'CREATE_TOPIC_PARTITIONS', 'createTopicPartitions'],
  ['--dlt-topic', 'DLT_TOPIC', 'dltTopic'],
  ['--handler', 'CONSUMER_HANDLER', 'handler'],
  ['--log-level', 'LOG_LEVEL', 'logLevel']
] as const satisfies readonly (readonly [string, string, keyof WorkerSettingsInput])[]

export type SettingKey = (typeof SETTING_SOURCES)[number][2]

/** Validates settings; a bad one is a usage error (exit 2) naming the flag and env variable. */
export function parseWorkerSettings(input: WorkerSettingsInput): WorkerSettings {
  const result = workerSettingsSchema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const key = String(issue.path[0] ?? '')
  const source = SETTING_SOURCES.find(([, , k]) => k === key)
  const name = source ? `${source[0]} (env ${source[1]})` : key
  throw usageError(`${name}: ${issue.message}${givenValue(input, issue.path.slice(0, 1))}`)
}

/**
 * Flags first, then the environment, then the defaults. Empty environment variables
 * count as unset (`export PORT=` means no port).
 */
export function resolveWorkerSettings(
  flags: Partial<Record<SettingKey, string | undefined>>,
  env: NodeJS.ProcessEnv = process.env
): WorkerSettings {
  const input: Record<string, string> = {}
  for (const [, envName, key] of SETTING_SOURCES) {
    const value = flags[key] ?? (env[envName]?.trim() ? env[envName] : undefined)
    if (value !== undefined) input[key] = value
  }
  return parseWorkerSettings(input as WorkerSettingsInput)
}
