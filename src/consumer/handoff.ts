/**
 * Partition handoff between group members, so a rebalance does not run a record twice.
 *
 * Why: @platformatic/kafka rejoins the group the moment the coordinator announces a
 * rebalance, without waiting for the application (Java's consumer only rejoins from
 * poll(), i.e. after the record in hand is done). So a partition can move to a new
 * member while the old one is still working on a record, and the new one starts at the
 * committed offset: the same record runs twice, at the same time.
 *
 * How: before working on a record, a worker commits the record's own offset (unchanged)
 * with metadata naming itself and a deadline ("busy"). Finishing, it commits the next
 * offset without metadata, as always. A member that is given a partition reads the
 * committed offset and metadata; while the partition is marked busy by another member
 * that is still in the group, before the deadline, it waits. Then it starts after
 * whatever the previous owner finished. A crashed owner is no longer a member once the
 * group has moved its partitions, so nobody waits for the dead.
 */
import { type Admin, offsetCommitV8 } from '@platformatic/kafka'
import type { RawConsumer } from '../kafka/clients.ts'

const PREFIX = 'lagscale-busy/1 '

export interface BusyMarker {
  memberId: string
  /** Epoch ms after which nobody should wait for this record any more. */
  until: number
  /** The finished-above-the-offset set (offset-codec.ts), when records run in parallel. */
  done?: string
}

export function encodeBusyMarker(marker: BusyMarker): string {
  return PREFIX + JSON.stringify({ m: marker.memberId, u: marker.until, ...(marker.done ? { d: marker.done } : {}) })
}

/** The marker in a commit's metadata, or undefined for anything else (other tools' metadata, none). */
export function parseBusyMarker(metadata: string | null | undefined): BusyMarker | undefined {
  if (!metadata?.startsWith(PREFIX)) return undefined
  try {
    const v = JSON.parse(metadata.slice(PREFIX.length)) as { m?: unknown; u?: unknown; d?: unknown }
    if (typeof v.m !== 'string' || typeof v.u !== 'number') return undefined
    return { memberId: v.m, until: v.u, ...(typeof v.d === 'string' ? { done: v.d } : {}) }
  } catch {
    return undefined
  }
}

/**
 * Commits `offset` with `metadata` as this member of the group (the client's own commit
 * API always sends null metadata), over the consumer's connection to the coordinator.
 */
export async function commitWithMetadata(
  consumer: RawConsumer,
  topic: string,
  partition: number,
  offset: bigint,
  metadata: string
): Promise<void> {
  const coordinator = await consumer.findGroupCoordinator()
  const connection = (await consumer.connectToBrokers([coordinator])).get(coordinator)
  if (!connection) throw new Error('no connection to the group coordinator')
  await offsetCommitV8.api.async(connection, consumer.groupId, consumer.generationId, consumer.memberId ?? '', null, [
    {
      name: topic,
      partitions: [
        { partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: metadata }
      ]
    }
  ])
}

export interface CommittedState {
  offset: bigint
  /** The commit's metadata as stored. */
  metadata: string | null
  marker?: BusyMarker
}

/** The finished-records part of a commit's metadata: inside a busy marker, or the metadata itself. */
export function doneMetadata(c: CommittedState): string | null {
  return c.marker ? (c.marker.done ?? null) : c.metadata
}

/** Committed offsets (and busy markers) of `partitions` of `topic`; partitions without a commit are absent. */
export async function readCommitted(
  admin: Admin,
  group: string,
  topic: string,
  partitions: number[]
): Promise<Map<number, CommittedState>> {
  const [listed] = await admin.listConsumerGroupOffsets({
    groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: partitions }] }]
  })
  const result = new Map<number, CommittedState>()
  for (const t of listed?.topics ?? []) {
    if (t.name !== topic) continue
    for (const p of t.partitions) {
      if (p.committedOffset < 0n || !partitions.includes(p.partitionIndex)) continue
      const marker = parseBusyMarker(p.metadata)
      const state: CommittedState = { offset: p.committedOffset, metadata: p.metadata ?? null }
      if (marker) state.marker = marker
      result.set(p.partitionIndex, state)
    }
  }
  return result
}

export async function groupMemberIds(admin: Admin, group: string): Promise<Set<string>> {
  const described = (await admin.describeGroups({ groups: [group] })).get(group)
  return new Set(described?.members.keys() ?? [])
}
