import { Admin, Consumer, type ConsumerOptions, Producer, type ProducerOptions } from '@platformatic/kafka'
import { baseClientOptions } from './client-options.ts'
import type { ConnectionConfig } from './connection-config.ts'
import { javaCompatiblePartitioner } from './partitioner.ts'

/** Records as raw bytes end to end: what a user writes is what Java tools and kcat read. */
export type RawProducer = Producer<Buffer, Buffer, string, Buffer>
export type RawConsumer = Consumer<Buffer, Buffer, string, Buffer>

const headerKeySerializer = (key?: string): Buffer | undefined => (key === undefined ? undefined : Buffer.from(key))
const headerKeyDeserializer = (key?: Buffer): string => (key ? key.toString('utf8') : '')

export function createAdmin(config: ConnectionConfig): Admin {
  return new Admin(baseClientOptions(config, 'admin'))
}

export function createProducer(
  config: ConnectionConfig,
  options: Partial<ProducerOptions<Buffer, Buffer, string, Buffer>> = {}
): RawProducer {
  return new Producer<Buffer, Buffer, string, Buffer>({
    ...baseClientOptions(config, 'producer'),
    // Durable by default: every in-sync replica has the record, and retries cannot duplicate it.
    acks: -1,
    idempotent: true,
    partitioner: javaCompatiblePartitioner(),
    serializers: { headerKey: headerKeySerializer },
    ...options
  })
}

export function createConsumer(
  config: ConnectionConfig,
  groupId: string,
  options: Partial<ConsumerOptions<Buffer, Buffer, string, Buffer>> = {}
): RawConsumer {
  return new Consumer<Buffer, Buffer, string, Buffer>({
    ...baseClientOptions(config, 'consumer'),
    groupId,
    deserializers: { headerKey: headerKeyDeserializer },
    ...options
  } as ConsumerOptions<Buffer, Buffer, string, Buffer>)
}
