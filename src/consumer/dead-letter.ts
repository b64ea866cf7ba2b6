import { UserError } from '../errors.ts'
import type { RawProducer } from '../kafka/clients.ts'
import { createAdmin } from '../kafka/clients.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'
import { toUserError } from '../kafka/errors.ts'
import { createTopic, describeTopics, topicExists } from '../kafka/topics.ts'
import { truncate } from './poison.ts'
import type { WorkerRecord } from './record.ts'

/** Header names on a dead-lettered record. The original key, value and headers are kept as they were. */
export const DLT_HEADERS = {
  reason: 'lagscale.dlt.reason',
  /** `poison` (no retry could help) or `handler-error` (the handler threw on every attempt). */
  kind: 'lagscale.dlt.kind',
  attempts: 'lagscale.dlt.attempts',
  group: 'lagscale.dlt.group',
  sourceTopic: 'lagscale.dlt.source.topic',
  sourcePartition: 'lagscale.dlt.source.partition',
  sourceOffset: 'lagscale.dlt.source.offset',
  sourceTimestamp: 'lagscale.dlt.source.timestamp',
  /** When the record was dead-lettered, ms since the epoch. */
  time: 'lagscale.dlt.time'
} as const

export type DeadLetterKind = 'poison' | 'handler-error'

export interface DeadLetterInfo {
  reason: string
  kind: DeadLetterKind
  attempts: number
  group: string
  now: number
}

const MAX_REASON = 1000

/** The original headers, then ours (which win over stale lagscale.dlt.* from an earlier trip). Pure. */
export function buildDeadLetterHeaders(record: WorkerRecord, info: DeadLetterInfo): Map<string, Buffer> {
  const headers = new Map<string, Buffer>()
  for (const [k, v] of record.headers) if (!k.startsWith('lagscale.dlt.')) headers.set(k, v)
  const ours: [string, string][] = [
    [DLT_HEADERS.reason, truncate(info.reason, MAX_REASON)],
    [DLT_HEADERS.kind, info.kind],
    [DLT_HEADERS.attempts, String(info.attempts)],
    [DLT_HEADERS.group, info.group],
    [DLT_HEADERS.sourceTopic, record.topic],
    [DLT_HEADERS.sourcePartition, String(record.partition)],
    [DLT_HEADERS.sourceOffset, String(record.offset)],
    [DLT_HEADERS.sourceTimestamp, String(record.timestamp)],
    [DLT_HEADERS.time, String(info.now)]
  ]
  for (const [k, v] of ours) headers.set(k, Buffer.from(v, 'utf8'))
  return headers
}

/**
 * Makes sure the dead-letter topic exists: created with the source's partition count
 * and replication factor when missing (several workers may race to create it).
 * Returns its partition count. Throws a UserError when the source topic is missing.
 */
export async function ensureDeadLetterTopic(
  connection: ConnectionConfig,
  sourceTopic: string,
  dltTopic: string,
  createPartitions = 0
): Promise<number> {
  const admin = createAdmin(connection)
  try {
    if (createPartitions > 0 && !(await topicExists(admin, sourceTopic))) {
      await createMissingTopic(admin, sourceTopic, createPartitions)
    }
    const [source] = await describeTopics(admin, [sourceTopic])
    if (!source) throw new UserError(`topic ${sourceTopic} does not exist`)
    if (!(await topicExists(admin, dltTopic))) {
      try {
        await createTopic(admin, {
          topic: dltTopic,
          partitions: source.partitionCount,
          replicationFactor: source.replicationFactor
        })
      } catch (err) {
        // Another worker created it first.
        if (!(await topicExists(admin, dltTopic))) throw err
      }
    }
    const [dlt] = await describeTopics(admin, [dltTopic])
    return dlt?.partitionCount ?? source.partitionCount
  } catch (err) {
    throw toUserError(err, `prepare dead-letter topic ${dltTopic}`)
  } finally {
    await admin.close().catch(() => {})
  }
}

/** Creates the topic (replication factor: the brokers, up to 3); another worker creating it first is fine. */
async function createMissingTopic(
  admin: ReturnType<typeof createAdmin>,
  topic: string,
  partitions: number
): Promise<void> {
  const brokers = (await admin.metadata({ topics: [] })).brokers.size
  try {
    await createTopic(admin, { topic, partitions, replicationFactor: Math.max(1, Math.min(3, brokers)) })
  } catch (err) {
    if (!(await topicExists(admin, topic))) throw err
  }
}

/** Sends one record to the dead-letter topic (acks=all) and resolves once it is stored. */
export async function sendToDeadLetter(
  producer: RawProducer,
  dltTopic: string,
  dltPartitions: number,
  record: WorkerRecord,
  info: DeadLetterInfo
): Promise<void> {
  await producer.send({
    messages: [
      {
        topic: dltTopic,
        // Same partition as the source when the DLT has it, so a partition's dead letters stay in order.
        ...(record.partition < dltPartitions ? { partition: record.partition } : {}),
        ...(record.keyBytes ? { key: record.keyBytes } : {}),
        ...(record.valueBytes ? { value: record.valueBytes } : {}),
        headers: buildDeadLetterHeaders(record, info),
        timestamp: record.timestamp
      }
    ]
  })
}
