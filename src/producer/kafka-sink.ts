import { UserError } from '../errors.ts'
import type { RawMessage } from '../kafka/batch-producer.ts'
import { createProducer, type RawProducer } from '../kafka/clients.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'

/** Where the first record of one produce request landed in one partition. */
export interface PartitionOffset {
  partition: number
  baseOffset: bigint
}

/** What the producer app needs from Kafka: small, so tests can wrap or replace it. */
export interface RecordSink {
  /** The topic's partition count (from the client's metadata cache). */
  partitionCount(topic: string): Promise<number>
  /** Asks the cluster for fresh metadata; rejects when it cannot be reached or the topic does not exist. */
  probe(topic: string): Promise<void>
  /** Sends the records (partitions already set) and resolves once all are acknowledged. */
  send(messages: RawMessage[]): Promise<PartitionOffset[]>
  close(): Promise<void>
}

/** A RecordSink over one long-lived producer from createProducer: acks=all, idempotent. */
export function producerSink(connection: ConnectionConfig): RecordSink {
  return new ProducerSink(createProducer(connection))
}

class ProducerSink implements RecordSink {
  readonly #producer: RawProducer

  constructor(producer: RawProducer) {
    this.#producer = producer
  }

  partitionCount(topic: string): Promise<number> {
    return this.#metadata(topic, false)
  }

  async probe(topic: string): Promise<void> {
    await this.#metadata(topic, true)
  }

  async send(messages: RawMessage[]): Promise<PartitionOffset[]> {
    const result = await this.#producer.send({ messages })
    return (result.offsets ?? []).map((o) => ({ partition: o.partition, baseOffset: BigInt(o.offset) }))
  }

  async close(): Promise<void> {
    await this.#producer.close()
  }

  async #metadata(topic: string, forceUpdate: boolean): Promise<number> {
    let count: number | undefined
    try {
      count = (await this.#producer.metadata({ topics: [topic], forceUpdate })).topics.get(topic)?.partitionsCount
    } catch (err) {
      // The client's own words for a missing topic ("Unknown topic T."), in ours.
      if (err instanceof Error && err.message === `Unknown topic ${topic}.`) count = undefined
      else throw err
    }
    if (!count) throw new UserError(`topic ${topic} does not exist`)
    return count
  }
}
