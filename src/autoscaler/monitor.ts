import type { Admin, ClusterMetadata } from '@platformatic/kafka'
import { createAdmin, createConsumer, type RawConsumer } from '../kafka/clients.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'
import { toUserError } from '../kafka/errors.ts'
import { normalizeState } from '../kafka/groups.ts'
import { withTimeout } from '../timeout.ts'
import { type RawPartitionOffsets, summarizeObservation } from './observation.ts'
import type { GroupMemberObservation, Observation } from './types.ts'

export interface LagMonitorOptions {
  group: string
  /** Topics to watch; empty: every topic the group has committed offsets on or is assigned. */
  topics: string[]
  /** Where a partition without a committed offset starts (the group's auto.offset.reset). */
  resetPolicy: 'earliest' | 'latest'
  /** One observation gives up after this long and is reported stale. */
  timeoutMs: number
  /** Read the oldest unconsumed record's timestamp per lagging partition (one small fetch per leader). */
  timeLag: boolean
}

type RawPartition = RawPartitionOffsets

/**
 * Reads, per partition of the group's topics, log-start, log-end and committed offsets and
 * the timestamp of the oldest unconsumed record, and derives lag, rates and time lag. I/O
 * only; the arithmetic lives in observation.ts. Never throws from observe(): a failure
 * gives a stale observation that repeats the last good data.
 */
export class LagMonitor {
  readonly options: LagMonitorOptions
  readonly #admin: Admin
  /** Never joins a group: used for metadata, offsets and single fetches. */
  readonly #peek: RawConsumer
  #last: Observation | undefined
  readonly #brokers: readonly string[]

  constructor(connection: ConnectionConfig, options: LagMonitorOptions) {
    this.options = options
    this.#brokers = connection.bootstrapServers
    this.#admin = createAdmin(connection)
    this.#peek = createConsumer(connection, options.group, { timeout: options.timeoutMs, retries: 1 })
  }

  get last(): Observation | undefined {
    return this.#last
  }

  async observe(now = Date.now()): Promise<Observation> {
    try {
      const observation = await withTimeout(
        this.#observe(now),
        this.options.timeoutMs,
        () => new Error(`no answer from Kafka within ${this.options.timeoutMs} ms`)
      )
      this.#last = observation
      return observation
    } catch (err) {
      // After a good observation, a refused or closed connection means a broker went away.
      const error = toUserError(err, `observe group ${this.options.group}`, {
        connected: this.#last !== undefined,
        brokers: this.#brokers
      }).message
      const last = this.#last
      return last
        ? { ...last, at: now, stale: true, error }
        : {
            at: now,
            group: this.options.group,
            topics: this.options.topics,
            partitions: [],
            sumOffsetLag: 0,
            maxOffsetLag: 0,
            maxTimeLagMs: 0,
            groupState: 'Unknown',
            members: [],
            stale: true,
            error
          }
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#admin.close(), this.#peek.close(true)])
  }

  async #observe(now: number): Promise<Observation> {
    const { group } = this.options
    const [described, committedList] = await Promise.all([
      this.#admin.describeGroups({ groups: [group] }),
      this.#admin.listConsumerGroupOffsets({ groups: [group] })
    ])
    const description = described.get(group)
    const members: GroupMemberObservation[] = [...(description?.members.values() ?? [])].map((m) => ({
      memberId: m.id,
      clientId: m.clientId,
      host: m.clientHost,
      partitions: [...(m.assignments?.values() ?? [])]
        .flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })))
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    }))
    const committed = new Map<string, number>()
    const discovered = new Set<string>()
    for (const topic of committedList[0]?.topics ?? []) {
      for (const p of topic.partitions) {
        if (p.committedOffset < 0n) continue
        committed.set(`${topic.name}:${p.partitionIndex}`, Number(p.committedOffset))
        discovered.add(topic.name)
      }
    }
    for (const m of members) for (const p of m.partitions) discovered.add(p.topic)
    const topics = this.options.topics.length > 0 ? this.options.topics : [...discovered].sort()

    // forceUpdate: partitions added since the last look must show up.
    const metadata = topics.length > 0 ? await this.#peek.metadata({ topics, forceUpdate: true }) : undefined
    const raw = await this.#offsets(topics, committed)
    const previous = this.#last && !this.#last.stale ? this.#last : undefined
    const sampledKeys = new Map<string, number>()
    const timestamps =
      this.options.timeLag && metadata ? await this.#oldestTimestamps(metadata, raw, sampledKeys) : new Map()
    const owners = new Map<string, string>()
    for (const m of members) for (const p of m.partitions) owners.set(`${p.topic}:${p.partition}`, m.clientId)

    return summarizeObservation({
      now,
      group,
      topics,
      groupState: normalizeState(description?.state ?? 'Dead'),
      members,
      partitions: raw,
      resetPolicy: this.options.resetPolicy,
      previous,
      oldestTimestamps: timestamps,
      sampledKeys,
      owners
    })
  }

  async #offsets(topics: string[], committed: Map<string, number>): Promise<RawPartition[]> {
    if (topics.length === 0) return []
    const [ends, starts] = await Promise.all([
      this.#peek.listOffsets({ topics, timestamp: -1n }),
      this.#peek.listOffsets({ topics, timestamp: -2n })
    ])
    const rows: RawPartition[] = []
    for (const topic of topics) {
      const topicEnds = ends.get(topic) ?? []
      const topicStarts = starts.get(topic) ?? []
      topicEnds.forEach((end, partition) => {
        const c = committed.get(`${topic}:${partition}`)
        rows.push({
          topic,
          partition,
          start: Number(topicStarts[partition] ?? 0n),
          end: Number(end),
          ...(c !== undefined ? { committed: c } : {})
        })
      })
    }
    return rows
  }

  /**
   * Timestamp of the first record at or after each lagging partition's consume position,
   * with one Fetch per leader. Kafka returns at least one whole batch even when it is larger
   * than the byte limit, so a tiny limit still yields the record we want.
   */
  async #oldestTimestamps(
    metadata: ClusterMetadata,
    rows: RawPartition[],
    keys: Map<string, number>
  ): Promise<Map<string, number>> {
    const result = new Map<string, number>()
    const byLeader = new Map<number, Wanted[]>()
    for (const row of rows) {
      const from = row.committed ?? (this.options.resetPolicy === 'earliest' ? row.start : row.end)
      if (row.end <= from) continue
      const topicMeta = metadata.topics.get(row.topic)
      const leader = topicMeta?.partitions[row.partition]?.leader
      if (!topicMeta || leader === undefined || leader < 0) continue
      const list = byLeader.get(leader) ?? []
      list.push({
        topicId: topicMeta.id,
        topic: row.topic,
        partition: row.partition,
        offset: Math.max(from, row.start)
      })
      byLeader.set(leader, list)
    }
    // Kafka returns a whole batch only for the first partition of a response; a partition
    // whose first batch is larger than its byte share comes back empty and is asked again alone.
    const fetchTimestamps = async (node: number, wanted: Wanted[], partitionMaxBytes: number): Promise<Wanted[]> => {
      const topicsById = new Map<string, Wanted[]>()
      for (const w of wanted) topicsById.set(w.topicId, [...(topicsById.get(w.topicId) ?? []), w])
      const response = await this.#peek.fetch({
        node,
        maxWaitTime: 0,
        minBytes: 1,
        maxBytes: 16 * 1024 * 1024,
        topics: [...topicsById].map(([topicId, parts]) => ({
          topicId,
          partitions: parts.map((p) => ({
            partition: p.partition,
            fetchOffset: BigInt(p.offset),
            partitionMaxBytes,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1
          }))
        }))
      })
      for (const topic of response.responses) {
        const parts = topicsById.get(topic.topicId) ?? []
        for (const p of topic.partitions) {
          const want = parts.find((w) => w.partition === p.partitionIndex)
          if (!want) continue
          const sample = sampleAtOrAfter(p.records ?? [], BigInt(want.offset))
          if (sample.timestamp !== undefined) {
            result.set(`${want.topic}:${want.partition}`, sample.timestamp)
            keys.set(`${want.topic}:${want.partition}`, sample.keys)
          }
        }
      }
      return wanted.filter((w) => !result.has(`${w.topic}:${w.partition}`))
    }
    await Promise.all(
      [...byLeader].map(async ([node, wanted]) => {
        const missed = await fetchTimestamps(node, wanted, 64 * 1024)
        for (const w of missed) await fetchTimestamps(node, [w], 1)
      })
    )
    return result
  }
}

interface Wanted {
  topicId: string
  topic: string
  partition: number
  offset: number
}

interface BatchLike {
  firstOffset: bigint
  firstTimestamp: bigint
  records: { offsetDelta: number; timestampDelta: bigint; key?: Buffer | null }[]
}

/**
 * From fetched batches: the create time of the first record with offset >= `offset` (epoch
 * ms), and how many distinct keys the records from there on have (keyless ones count as
 * one key) - an estimate of the backlog's keys, for key-ordered parallel processing.
 */
export function sampleAtOrAfter(batches: BatchLike[], offset: bigint): { timestamp?: number; keys: number } {
  let timestamp: number | undefined
  const keys = new Set<string>()
  for (const batch of batches) {
    for (const record of batch.records) {
      if (batch.firstOffset + BigInt(record.offsetDelta) < offset) continue
      timestamp ??= Number(batch.firstTimestamp + record.timestampDelta)
      keys.add(record.key && record.key.length > 0 ? record.key.toString('latin1') : '')
    }
  }
  return timestamp === undefined ? { keys: 0 } : { timestamp, keys: keys.size }
}

/** Create time of the first record with offset >= `offset` in fetched batches (epoch ms). */
export function recordTimestampAtOrAfter(batches: BatchLike[], offset: bigint): number | undefined {
  return sampleAtOrAfter(batches, offset).timestamp
}

export function createLagMonitor(connection: ConnectionConfig, options: LagMonitorOptions): LagMonitor {
  return new LagMonitor(connection, options)
}
