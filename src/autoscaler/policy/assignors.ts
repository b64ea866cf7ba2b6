/**
 * How Kafka's group assignors spread partitions over the members of a group, when every
 * member subscribes to the same topics. Pure; the drain policy uses it to predict each
 * consumer's share of the backlog, and a simulator can reuse it.
 *
 * Members are identified by their index 0..n-1, standing for the members sorted by member
 * id (what Kafka's assignors sort by).
 */

export interface TopicPartition {
  topic: string
  partition: number
}

export type Assignor = 'roundrobin' | 'range' | 'cooperative-sticky'

export const ASSIGNORS: readonly Assignor[] = ['roundrobin', 'range', 'cooperative-sticky']

/**
 * The partitions each consumer gets: result[i] is consumer i's list, sorted by topic then
 * partition. Every partition goes to exactly one consumer; with more consumers than
 * partitions the extra consumers get empty lists. Duplicates in the input are kept once.
 *
 * - roundrobin (RoundRobinAssignor, the default of @platformatic/kafka): all topic-partitions
 *   sorted by topic then partition, dealt to the consumers in turn.
 * - range (RangeAssignor, the Java client's classic default): per topic, partitions split in
 *   contiguous ranges; the first `partitions % consumers` consumers get one extra. With several
 *   topics the same low-index consumers get the extras of every topic, so it can be uneven.
 * - cooperative-sticky: approximated as roundrobin. From scratch (no previous owners) the
 *   sticky assignor deals the sorted partitions over the members in turn, so the counts are
 *   the same as roundrobin (each gets floor or ceil of partitions/consumers); during a
 *   rebalance of a live group it keeps partitions where they were, which is not modelled.
 */
export function assignPartitions(
  partitions: readonly TopicPartition[],
  consumers: number,
  assignor: Assignor = 'roundrobin'
): TopicPartition[][] {
  if (!Number.isInteger(consumers) || consumers < 0) throw new RangeError(`consumers must be an integer >= 0`)
  const result: TopicPartition[][] = Array.from({ length: consumers }, () => [])
  if (consumers === 0) return result
  const sorted = sortUnique(partitions)
  if (assignor === 'range') {
    for (const topicPartitions of groupByTopic(sorted)) {
      const per = Math.floor(topicPartitions.length / consumers)
      const extra = topicPartitions.length % consumers
      for (let i = 0; i < consumers; i++) {
        const start = i * per + Math.min(i, extra)
        const length = per + (i < extra ? 1 : 0)
        result[i]!.push(...topicPartitions.slice(start, start + length))
      }
    }
  } else {
    sorted.forEach((tp, i) => {
      result[i % consumers]!.push(tp)
    })
  }
  return result
}

function sortUnique(partitions: readonly TopicPartition[]): TopicPartition[] {
  const seen = new Set<string>()
  const out: TopicPartition[] = []
  for (const { topic, partition } of partitions) {
    const key = `${topic}\u0000${partition}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ topic, partition })
  }
  // Code-unit order, as Java's String.compareTo sorts topic names.
  return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
}

function groupByTopic(sorted: TopicPartition[]): TopicPartition[][] {
  const groups: TopicPartition[][] = []
  for (const tp of sorted) {
    const last = groups.at(-1)
    if (last && last[0]!.topic === tp.topic) last.push(tp)
    else groups.push([tp])
  }
  return groups
}
