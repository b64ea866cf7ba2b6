/**
 * Consumer lag math, as kafka-consumer-groups and MSK's metrics define it. Pure.
 * Lag of a partition = log-end offset - committed offset. With no committed
 * offset the lag is unknown ('-' in Kafka's tool) unless the caller says where
 * the group would start (auto.offset.reset), as KEDA's scaler does.
 */
export interface PartitionOffsets {
  topic: string
  partition: number
  logEndOffset: bigint
  /** Earliest offset still in the log (log-start). */
  logStartOffset?: bigint
  committedOffset?: bigint
}

export type ResetPolicy = 'earliest' | 'latest' | 'none'

export interface PartitionLag extends PartitionOffsets {
  /** undefined when unknown: no committed offset and policy 'none'. */
  lag?: bigint
}

export function partitionLag(p: PartitionOffsets, resetPolicy: ResetPolicy = 'none'): PartitionLag {
  let from = p.committedOffset
  if (from === undefined) {
    if (resetPolicy === 'earliest') from = p.logStartOffset ?? 0n
    else if (resetPolicy === 'latest') from = p.logEndOffset
  }
  if (from === undefined) return { ...p }
  // A committed offset past the log end (truncated or deleted records) is not negative lag.
  const lag = p.logEndOffset > from ? p.logEndOffset - from : 0n
  return { ...p, lag }
}

export interface LagSummary {
  /** MSK's SumOffsetLag: the sum over partitions with a known lag. */
  sumOffsetLag: bigint
  /** MSK's MaxOffsetLag. */
  maxOffsetLag: bigint
  partitionsWithLag: number
  partitionsUnknown: number
}

export function summarizeLag(lags: PartitionLag[]): LagSummary {
  let sum = 0n
  let max = 0n
  let withLag = 0
  let unknown = 0
  for (const l of lags) {
    if (l.lag === undefined) {
      unknown++
      continue
    }
    sum += l.lag
    if (l.lag > max) max = l.lag
    if (l.lag > 0n) withLag++
  }
  return { sumOffsetLag: sum, maxOffsetLag: max, partitionsWithLag: withLag, partitionsUnknown: unknown }
}
