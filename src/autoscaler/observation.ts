import type { GroupMemberObservation, Observation, PartitionObservation } from './types.ts'

export interface RawPartitionOffsets {
  topic: string
  partition: number
  start: number
  end: number
  committed?: number
}

export interface ObservationInput {
  now: number
  group: string
  topics: string[]
  groupState: string
  members: GroupMemberObservation[]
  partitions: RawPartitionOffsets[]
  resetPolicy: 'earliest' | 'latest'
  /** The previous good observation, for rates. */
  previous?: Observation
  /** `topic:partition` -> create time (epoch ms) of the oldest unconsumed record. */
  oldestTimestamps: Map<string, number>
  /** `topic:partition` -> client id of the member that owns it. */
  owners: Map<string, string>
  /** `topic:partition` -> distinct keys in a sample of its oldest unconsumed records. */
  sampledKeys?: Map<string, number>
}

/**
 * Lag, rates and time lag from raw offsets. Pure. A partition with no committed offset
 * counts from where the group would start (the reset policy), as KEDA does; a committed
 * offset below the log start (records deleted by retention) counts from the log start,
 * because those records can never be consumed.
 */
export function summarizeObservation(input: ObservationInput): Observation {
  const { now, previous } = input
  const before = new Map(previous?.partitions.map((p) => [`${p.topic}:${p.partition}`, p]))
  const dtSeconds = previous ? (now - previous.at) / 1000 : 0
  const partitions: PartitionObservation[] = input.partitions
    .map((raw) => {
      const key = `${raw.topic}:${raw.partition}`
      const lagFrom = raw.committed !== undefined ? 'committed' : input.resetPolicy
      const from =
        raw.committed !== undefined
          ? Math.max(raw.committed, raw.start)
          : input.resetPolicy === 'earliest'
            ? raw.start
            : raw.end
      const lag = Math.max(0, raw.end - from)
      const oldest = input.oldestTimestamps.get(key)
      const row: PartitionObservation = {
        topic: raw.topic,
        partition: raw.partition,
        logStartOffset: raw.start,
        logEndOffset: raw.end,
        lag,
        lagFrom,
        timeLagMs: lag > 0 && oldest !== undefined ? Math.max(0, now - oldest) : 0
      }
      if (raw.committed !== undefined) row.committedOffset = raw.committed
      const prev = before.get(key)
      if (prev && dtSeconds > 0) {
        row.produceRate = Math.max(0, raw.end - prev.logEndOffset) / dtSeconds
        if (raw.committed !== undefined && prev.committedOffset !== undefined) {
          row.consumeRate = Math.max(0, raw.committed - prev.committedOffset) / dtSeconds
        }
      }
      const owner = input.owners.get(key)
      if (owner !== undefined) row.owner = owner
      const keys = input.sampledKeys?.get(key)
      if (keys !== undefined && lag > 0) row.sampledKeys = keys
      return row
    })
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  let sum = 0
  let max = 0
  let maxTime = 0
  for (const p of partitions) {
    sum += p.lag
    max = Math.max(max, p.lag)
    maxTime = Math.max(maxTime, p.timeLagMs)
  }
  return {
    at: now,
    group: input.group,
    topics: input.topics,
    partitions,
    sumOffsetLag: sum,
    maxOffsetLag: max,
    maxTimeLagMs: maxTime,
    groupState: input.groupState,
    members: input.members,
    stale: false
  }
}
