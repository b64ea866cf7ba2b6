import { compatibilityPartitioner, type MessageToProduce } from '@platformatic/kafka'

/**
 * Keyed records go where Java's producer would put them (murmur2 of the key,
 * positive, modulo partitions), so lagscale and Java/kcat producers agree on a
 * key's partition. @platformatic/kafka's compatibilityPartitioner alone sends
 * every keyless record to partition 0; here keyless records rotate over the
 * partitions, as the seed's keyless producer needs to spread work.
 * The client reduces the returned number modulo the partition count.
 */
export function javaCompatiblePartitioner<K, V, HK, HV>(): (
  message: MessageToProduce<K, V, HK, HV>,
  key: Buffer | undefined
) => number {
  const nextByTopic = new Map<string, number>()
  return (message, key) => {
    if (key !== undefined && key !== null) return compatibilityPartitioner(message, key)
    const next = nextByTopic.get(message.topic) ?? Math.floor(Math.random() * 1024)
    nextByTopic.set(message.topic, (next + 1) & 0x7fffffff)
    return next
  }
}
