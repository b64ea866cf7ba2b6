import type { Admin } from '@platformatic/kafka'
import { UserError, usageError } from '../errors.ts'
import { toUserError } from './errors.ts'
import { type LagSummary, type PartitionLag, partitionLag, summarizeLag } from './lag.ts'

export interface GroupListing {
  groupId: string
  state: string
  type: string
}

export interface GroupPartitionRow extends PartitionLag {
  consumerId?: string
  host?: string
  clientId?: string
}

export interface GroupDescription {
  groupId: string
  state: string
  members: number
  partitions: GroupPartitionRow[]
  summary: LagSummary
}

export async function listGroups(admin: Admin): Promise<GroupListing[]> {
  try {
    const groups = await admin.listGroups()
    return [...groups.values()]
      .map((g) => ({ groupId: g.id, state: normalizeState(g.state), type: g.groupType ?? g.protocolType ?? '' }))
      .sort((a, b) => a.groupId.localeCompare(b.groupId))
  } catch (err) {
    throw toUserError(err, 'list groups')
  }
}

/** "STABLE" and "Stable" both become "Stable", as kafka-consumer-groups prints it. */
export function normalizeState(state: string): string {
  if (state === state.toUpperCase()) {
    return state
      .toLowerCase()
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('')
  }
  return state
}

export async function groupExists(admin: Admin, groupId: string): Promise<boolean> {
  return (await listGroups(admin)).some((g) => g.groupId === groupId)
}

/** Committed offset, log-end offset and lag of every partition the group owns or has committed. */
export async function describeGroup(admin: Admin, groupId: string): Promise<GroupDescription> {
  if (!(await groupExists(admin, groupId))) throw new UserError(`consumer group '${groupId}' does not exist`)
  try {
    const described = (await admin.describeGroups({ groups: [groupId] })).get(groupId)
    const [committed] = await admin.listConsumerGroupOffsets({ groups: [groupId] })

    const owners = new Map<string, { consumerId: string; host: string; clientId: string }>()
    for (const member of described?.members.values() ?? []) {
      for (const assignment of member.assignments?.values() ?? []) {
        for (const partition of assignment.partitions) {
          owners.set(`${assignment.topic}:${partition}`, {
            consumerId: member.id,
            host: member.clientHost,
            clientId: member.clientId
          })
        }
      }
    }

    const committedBy = new Map<string, bigint>()
    for (const topic of committed?.topics ?? []) {
      for (const p of topic.partitions) {
        if (p.committedOffset >= 0n) committedBy.set(`${topic.name}:${p.partitionIndex}`, p.committedOffset)
      }
    }

    const keys = new Set([...owners.keys(), ...committedBy.keys()])
    const byTopic = new Map<string, number[]>()
    for (const key of keys) {
      const at = key.lastIndexOf(':')
      const topic = key.slice(0, at)
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(key.slice(at + 1))])
    }
    const ends = await logEndOffsets(admin, byTopic)

    const partitions: GroupPartitionRow[] = [...keys]
      .map((key) => {
        const at = key.lastIndexOf(':')
        const topic = key.slice(0, at)
        const partition = Number(key.slice(at + 1))
        const committedOffset = committedBy.get(key)
        const row: GroupPartitionRow = partitionLag({
          topic,
          partition,
          logEndOffset: ends.get(key) ?? 0n,
          ...(committedOffset !== undefined ? { committedOffset } : {})
        })
        const owner = owners.get(key)
        if (owner) Object.assign(row, owner)
        return row
      })
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)

    return {
      groupId,
      state: normalizeState(described?.state ?? 'Unknown'),
      members: described?.members.size ?? 0,
      partitions,
      summary: summarizeLag(partitions)
    }
  } catch (err) {
    throw toUserError(err, `describe group ${groupId}`)
  }
}

/** Offsets at `timestamp` (-1n: log end, -2n: log start) for the given partitions. */
export async function offsetsAt(
  admin: Admin,
  partitionsByTopic: Map<string, number[]>,
  timestamp: bigint
): Promise<Map<string, bigint>> {
  const result = new Map<string, bigint>()
  if (partitionsByTopic.size === 0) return result
  const listed = await admin.listOffsets({
    topics: [...partitionsByTopic].map(([name, partitions]) => ({
      name,
      partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp }))
    }))
  })
  for (const topic of listed) {
    for (const p of topic.partitions) result.set(`${topic.name}:${p.partitionIndex}`, p.offset)
  }
  return result
}

export function logEndOffsets(admin: Admin, partitionsByTopic: Map<string, number[]>): Promise<Map<string, bigint>> {
  return offsetsAt(admin, partitionsByTopic, -1n)
}

export type ResetTarget = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint }

export interface ResetRow {
  topic: string
  partition: number
  newOffset: bigint
}

/**
 * kafka-consumer-groups --reset-offsets: computes new offsets for every partition of
 * `topic` and, with `execute`, commits them. The group must have no active members.
 */
export async function resetOffsets(
  admin: Admin,
  options: { groupId: string; topic: string; target: ResetTarget; execute: boolean; partitionCount: number }
): Promise<ResetRow[]> {
  const { groupId, topic, target } = options
  try {
    const described = (await admin.describeGroups({ groups: [groupId] })).get(groupId)
    const state = normalizeState(described?.state ?? 'Dead')
    if (described && described.members.size > 0) {
      throw new UserError(
        `assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${state}`
      )
    }
    const partitions = Array.from({ length: options.partitionCount }, (_, i) => i)
    const request = new Map([[topic, partitions]])
    const earliest = await offsetsAt(admin, request, -2n)
    const latest = await offsetsAt(admin, request, -1n)
    const rows = partitions.map((partition) => {
      const key = `${topic}:${partition}`
      const low = earliest.get(key) ?? 0n
      const high = latest.get(key) ?? 0n
      let newOffset = target.kind === 'earliest' ? low : target.kind === 'latest' ? high : target.offset
      // As Kafka's tool does: an offset outside the log is clamped to its ends.
      if (newOffset < low) newOffset = low
      if (newOffset > high) newOffset = high
      return { topic, partition, newOffset }
    })
    if (options.execute) {
      await admin.alterConsumerGroupOffsets({
        groupId,
        topics: [{ name: topic, partitionOffsets: rows.map((r) => ({ partition: r.partition, offset: r.newOffset })) }]
      })
    }
    return rows
  } catch (err) {
    throw toUserError(err, `reset offsets of group ${groupId}`)
  }
}

export async function deleteGroup(admin: Admin, groupId: string): Promise<void> {
  if (!groupId) throw usageError('--group is required')
  if (!(await groupExists(admin, groupId))) throw new UserError(`consumer group '${groupId}' does not exist`)
  try {
    await admin.deleteGroups({ groups: [groupId] })
  } catch (err) {
    throw toUserError(err, `delete group ${groupId}`)
  }
}
