import {
  Admin,
  Consumer,
  type ConsumerOptions,
  type Message,
  Producer,
  type ProducerOptions
} from '@platformatic/kafka'
import { baseClientOptions } from './client-options.ts'
import type { ConnectionConfig } from './connection-config.ts'
import { javaCompatiblePartitioner } from './partitioner.ts'
import { retryRetriableErrors } from './retry-policy.ts'

/** Records as raw bytes end to end: what a user writes is what Java tools and kcat read. */
export type RawProducer = Producer<Buffer, Buffer, string, Buffer>
export type RawConsumer = Consumer<Buffer, Buffer, string, Buffer>
export type RawConsumedMessage = Message<Buffer, Buffer, string, Buffer>

const headerKeySerializer = (key?: string): Buffer | undefined => (key === undefined ? undefined : Buffer.from(key))
const headerKeyDeserializer = (key?: Buffer): string => (key ? key.toString('utf8') : '')

/**
 * How long a request keeps retrying errors Kafka marks retriable (leader election, coordinator
 * loading or moved). Java's clients wait up to default.api.timeout.ms (60 s); 30 s covers what
 * we measured on a local 3-broker cluster (a new leader within a few seconds of a kill -9, a
 * coordinator loading for 1-3 s after a start) with room, and keeps a real failure from
 * looking like a hang.
 */
export const RETRIABLE_ERROR_DEADLINE_MS = 30_000

export function createAdmin(config: ConnectionConfig): Admin {
  return retryRetriableErrors(new Admin(baseClientOptions(config, 'admin')), RETRIABLE_ERROR_DEADLINE_MS)
}

export function createProducer(
  config: ConnectionConfig,
  options: Partial<ProducerOptions<Buffer, Buffer, string, Buffer>> = {}
): RawProducer {
  const producer = new Producer<Buffer, Buffer, string, Buffer>({
    ...baseClientOptions(config, 'producer'),
    // Durable by default: every in-sync replica has the record, and retries cannot duplicate it.
    acks: -1,
    idempotent: true,
    partitioner: javaCompatiblePartitioner(),
    serializers: { headerKey: headerKeySerializer },
    ...options
  })
  return retryRetriableErrors(producer, RETRIABLE_ERROR_DEADLINE_MS)
}

/**
 * Fetch sizing, measured with bench/client.ts (docs/benchmarks.md): the client's defaults
 * (50 MB per partition) made one fetch return a whole topic's backlog, and decoding a
 * partition's records walks the response's socket chunks from the start on every read,
 * so the cost grew with the square of the fetch size; all those records then became
 * message objects at once and outlived the young-generation GC. 64 KiB per partition
 * (about 600 records of 100 B) and a short stream buffer read ~3x faster (1M records:
 * ~190k -> ~500-900k records/s). maxBytes (the whole response) keeps the client default,
 * as a lower cap could starve later partitions (requests list them in the same order).
 */
export const CONSUMER_FETCH_DEFAULTS = {
  maxBytesPerPartition: 64 * 1024,
  highWaterMark: 256
} as const

export function createConsumer(
  config: ConnectionConfig,
  groupId: string,
  options: Partial<ConsumerOptions<Buffer, Buffer, string, Buffer>> = {}
): RawConsumer {
  const consumer = new Consumer<Buffer, Buffer, string, Buffer>({
    ...baseClientOptions(config, 'consumer'),
    groupId,
    deserializers: { headerKey: headerKeyDeserializer },
    ...CONSUMER_FETCH_DEFAULTS,
    ...options
  } as ConsumerOptions<Buffer, Buffer, string, Buffer>)
  // Not retryRetriableErrors: the consumer's group requests (heartbeat, join, commit) go through
  // the same retry step, and a heartbeat retried for 30 s would hide a dead coordinator from the
  // group logic. A consumer recovers by rejoining instead (worker.ts, console-consumer.ts).
  return consumer
}
