import { setTimeout as sleep } from 'node:timers/promises'
import { type Admin, ConfigResourceTypes, ConfigSources } from '@platformatic/kafka'
import { UserError, usageError } from '../errors.ts'
import { createAdmin } from './clients.ts'
import type { ConnectionConfig } from './connection-config.ts'
import { toUserError } from './errors.ts'

export interface TopicPartitionInfo {
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
}

export interface TopicDescription {
  topic: string
  topicId: string
  partitionCount: number
  replicationFactor: number
  /** Settings set on the topic itself (not broker defaults), as kafka-topics --describe shows. */
  configs: Record<string, string>
  partitions: TopicPartitionInfo[]
}

/** Kafka's own topic name rule: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
export function validateTopicName(name: string | undefined): string {
  if (name === undefined || name === '') throw usageError('--topic is required and must not be empty')
  if (name === '.' || name === '..') throw usageError(`topic name cannot be "${name}"`)
  if (name.length > 249) throw usageError('topic name is longer than 249 characters')
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    throw usageError(`topic name "${name}" is invalid: use only letters, digits, '.', '_' and '-'`)
  }
  return name
}

export function parsePositiveInt(flag: string, value: string | undefined): number {
  if (value === undefined) throw usageError(`${flag} is required`)
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw usageError(`${flag} must be a positive integer; got ${value}`)
  }
  return n
}

/** `--config k=v` pairs as kafka-topics takes them: name and value trimmed, as its TopicCommand does. */
export function parseConfigPairs(pairs: string[]): { name: string; value: string }[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? '' : pair.slice(0, eq).trim()
    if (name === '') throw usageError(`--config expects key=value; got ${pair}`)
    return { name, value: pair.slice(eq + 1).trim() }
  })
}

export async function createTopic(
  admin: Admin,
  options: { topic: string; partitions: number; replicationFactor: number; configs?: { name: string; value: string }[] }
): Promise<void> {
  try {
    await admin.createTopics({
      topics: [options.topic],
      partitions: options.partitions,
      replicas: options.replicationFactor,
      configs: options.configs ?? []
    })
    // CreateTopics returns once the controller has the topic; the broker's metadata
    // cache follows a moment later. Return only when clients can see it, so that a
    // describe, produce or consume right after creation does not say it is missing.
    const deadline = Date.now() + TOPIC_VISIBLE_TIMEOUT_MS
    while (!(await topicExists(admin, options.topic))) {
      if (Date.now() > deadline) throw new UserError(`topic ${options.topic} was created but is not visible yet`)
      await sleep(50)
    }
  } catch (err) {
    throw toUserError(err, `create topic ${options.topic}`)
  }
}

const TOPIC_VISIBLE_TIMEOUT_MS = 10_000

export async function listTopics(admin: Admin, includeInternal = false): Promise<string[]> {
  try {
    return (await admin.listTopics({ includeInternals: includeInternal })).sort()
  } catch (err) {
    throw toUserError(err, 'list topics')
  }
}

/** Fails with "<context>: topic T does not exist" (or why it cannot tell) before a client starts work on it. */
export async function requireTopic(config: ConnectionConfig, topic: string, context: string): Promise<void> {
  const admin = createAdmin(config)
  try {
    if (!(await topicExists(admin, topic))) throw new UserError(`topic ${topic} does not exist`)
  } catch (err) {
    throw toUserError(err, context)
  } finally {
    await admin.close().catch(() => {})
  }
}

/** Errors are left to the caller, so they say what the user was doing ("produce to T: ..."). */
export async function topicExists(admin: Admin, topic: string): Promise<boolean> {
  return (await admin.listTopics({ includeInternals: true })).includes(topic)
}

export async function describeTopics(admin: Admin, topics?: string[]): Promise<TopicDescription[]> {
  const names = topics && topics.length > 0 ? topics : await listTopics(admin)
  if (names.length === 0) return []
  const existing = new Set(await listTopics(admin, true))
  const missing = names.filter((t) => !existing.has(t))
  if (missing.length > 0) throw new UserError(`topic ${missing.join(', ')} does not exist`)
  try {
    const metadata = await admin.metadata({ topics: names, forceUpdate: true })
    const configs = await admin.describeConfigs({
      resources: names.map((name) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName: name }))
    })
    return names.map((topic) => {
      const meta = metadata.topics.get(topic)
      if (!meta) throw new UserError(`topic ${topic} does not exist`)
      const partitions = meta.partitions
        .map((p, partition) => ({ partition, leader: p.leader, replicas: p.replicas, isr: p.isr }))
        .sort((a, b) => a.partition - b.partition)
      const overrides: Record<string, string> = {}
      for (const c of configs.find((d) => d.resourceName === topic)?.configs ?? []) {
        if (c.configSource === ConfigSources.DYNAMIC_TOPIC_CONFIG) {
          overrides[c.name] = c.isSensitive ? '[redacted]' : (c.value ?? '')
        }
      }
      return {
        topic,
        topicId: kafkaUuid(meta.id),
        partitionCount: meta.partitionsCount,
        replicationFactor: partitions[0]?.replicas.length ?? 0,
        configs: overrides,
        partitions
      }
    })
  } catch (err) {
    throw toUserError(err, 'describe topics')
  }
}

/** Number of partitions of a topic; a clear error when it does not exist. */
export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const [description] = await describeTopics(admin, [topic])
  return description?.partitionCount ?? 0
}

export async function alterPartitions(admin: Admin, topic: string, partitions: number): Promise<void> {
  const current = await partitionCount(admin, topic)
  if (partitions <= current) {
    throw usageError(
      `topic ${topic} has ${current} partition(s); --partitions must be greater (Kafka cannot remove partitions)`
    )
  }
  try {
    await admin.createPartitions({ topics: [{ name: topic, count: partitions, assignments: null }] })
  } catch (err) {
    throw toUserError(err, `alter topic ${topic}`)
  }
}

export async function deleteTopic(admin: Admin, topic: string): Promise<void> {
  try {
    if (!(await topicExists(admin, topic))) throw new UserError(`delete topic ${topic}: the topic does not exist`)
    await admin.deleteTopics({ topics: [topic] })
  } catch (err) {
    throw toUserError(err, `delete topic ${topic}`)
  }
}

/** kafka-topics --describe text. */
export function formatTopicDescription(d: TopicDescription): string {
  const configs = Object.entries(d.configs)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  const head = `Topic: ${d.topic}\tTopicId: ${d.topicId}\tPartitionCount: ${d.partitionCount}\tReplicationFactor: ${d.replicationFactor}\tConfigs: ${configs}`
  const rows = d.partitions.map(
    (p) =>
      `\tTopic: ${d.topic}\tPartition: ${p.partition}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`
  )
  return [head, ...rows].join('\n')
}

/** Kafka prints topic ids as URL-safe base64 of the 16 bytes (Uuid.toString), not as dashed hex. */
export function kafkaUuid(id: string): string {
  const hex = id.replace(/-/g, '')
  return /^[0-9a-f]{32}$/i.test(hex) ? Buffer.from(hex, 'hex').toString('base64url') : id
}
