import type { RawConsumedMessage } from '../kafka/clients.ts'

/** What a handler gets: the record as the seed's String deserializers see it, plus the raw bytes. */
export interface WorkerRecord {
  topic: string
  partition: number
  offset: bigint
  /** Create time (or log-append time), ms since the epoch. */
  timestamp: bigint
  /** UTF-8 key; null when the record has no key. */
  key: string | null
  /** UTF-8 value; null for a tombstone. */
  value: string | null
  keyBytes: Buffer | null
  valueBytes: Buffer | null
  headers: Map<string, Buffer>
}

export function toWorkerRecord(message: RawConsumedMessage): WorkerRecord {
  // The raw deserializer gives an empty buffer or undefined for a null key; Kafka's tools print both as null.
  const keyBytes = message.key && message.key.length > 0 ? message.key : null
  const valueBytes = message.value ?? null
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: keyBytes ? keyBytes.toString('utf8') : null,
    value: valueBytes ? valueBytes.toString('utf8') : null,
    keyBytes,
    valueBytes,
    headers: new Map(message.headers)
  }
}
