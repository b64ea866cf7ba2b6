import { z } from 'zod'
import { topicName } from '../config-schema.ts'
import { usageError } from '../errors.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'

export const DEFAULT_PORT = 8082
export const DEFAULT_TOPIC = 'Topic_from_java'
export const DEFAULT_MAX_MESSAGES_PER_REQUEST = 100_000

const isConnection = (v: unknown): v is ConnectionConfig =>
  typeof v === 'object' && v !== null && Array.isArray((v as ConnectionConfig).bootstrapServers)

const ms = (fallback: number) => z.number().int().min(1).max(600_000).default(fallback)

/** Everything the producer app needs, validated once and passed down. */
export const producerConfigSchema = z.object({
  connection: z.custom<ConnectionConfig>(isConnection, 'a Kafka connection config'),
  /** 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
  host: z.string().min(1).default('0.0.0.0'),
  topic: topicName.default(DEFAULT_TOPIC),
  /** Largest N one POST may ask for. */
  maxMessagesPerRequest: z.number().int().min(1).max(10_000_000).default(DEFAULT_MAX_MESSAGES_PER_REQUEST),
  /** Largest `values` array POST /api/messages takes. */
  maxApiValues: z.number().int().min(1).max(100_000).default(10_000),
  /** Records per produce request. */
  batchSize: z.number().int().min(1).max(100_000).default(4000),
  /** Each produce request must be acknowledged within this, or the HTTP request gets 503. */
  ackTimeoutMs: ms(5000),
  /** The health check's metadata probe: its timeout, and how long its answer is reused. */
  healthTimeoutMs: ms(2000),
  healthCacheMs: z.number().int().min(0).max(600_000).default(3000),
  /** close() waits this long for in-flight requests, then drops their connections. */
  shutdownTimeoutMs: ms(30_000)
})

export type ProducerConfig = z.output<typeof producerConfigSchema>
export type ProducerConfigInput = z.input<typeof producerConfigSchema>

const FLAG_NAMES: Record<string, string> = {
  port: '--port (env PORT)',
  topic: '--topic (env TOPIC)',
  maxMessagesPerRequest: '--max-messages-per-request (env MAX_MESSAGES_PER_REQUEST)'
}

/** Validates a producer config; throws a usage error (exit code 2) with one clear line. */
export function producerConfig(input: ProducerConfigInput): ProducerConfig {
  const parsed = producerConfigSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  const key = String(issue.path[0] ?? '')
  throw usageError(`${FLAG_NAMES[key] ?? key}: ${issue.message}`)
}

export interface ProducerFlags {
  port?: string | undefined
  host?: string | undefined
  topic?: string | undefined
  maxMessagesPerRequest?: string | undefined
}

/** Flags win over the environment (PORT, TOPIC, MAX_MESSAGES_PER_REQUEST), which wins over the defaults. */
export function resolveProducerConfig(
  flags: ProducerFlags,
  env: NodeJS.ProcessEnv,
  connection: ConnectionConfig
): ProducerConfig {
  const pick = (flag: string | undefined, name: string): string | undefined =>
    flag ?? (env[name] === '' ? undefined : env[name])
  const port = pick(flags.port, 'PORT')
  const max = pick(flags.maxMessagesPerRequest, 'MAX_MESSAGES_PER_REQUEST')
  const topic = pick(flags.topic, 'TOPIC')
  const input: ProducerConfigInput = { connection }
  if (port !== undefined) input.port = integer('port', port)
  if (max !== undefined) input.maxMessagesPerRequest = integer('maxMessagesPerRequest', max)
  if (topic !== undefined) input.topic = topic
  if (flags.host !== undefined) input.host = flags.host
  return producerConfig(input)
}

function integer(key: string, raw: string): number {
  if (!/^[0-9]{1,9}$/.test(raw)) throw usageError(`${FLAG_NAMES[key]} must be a whole number; got ${raw}`)
  return Number(raw)
}
