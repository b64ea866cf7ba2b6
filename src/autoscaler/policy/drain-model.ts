/**
 * The drain policy's model of a consumer group working off a backlog. Pure; a simulator can
 * reuse it.
 *
 * The model:
 * - A consumer processes one record at a time; a record takes `workMs` of its time, so a
 *   consumer handles 1000 / workMs records per second whatever partitions it owns.
 * - A partition can keep `parallelismPerPartition` (k) consumers busy at once: it is split into
 *   k slots, each holding 1/k of its backlog and of its arrivals, and the group's assignor
 *   spreads the slots over the consumers as it spreads partitions (k = 1: classic Kafka, one
 *   consumer per partition). So a consumer's backlog is the sum over its slots of lag_p / k.
 * - The assignment is the one the assignor makes from scratch for n consumers (no stickiness).
 * - Each consumer drains its own backlog L_c while its slots keep receiving r_c records/s:
 *   it needs L_c / (1000 / workMs - r_c) s, and never finishes when r_c >= 1000 / workMs.
 *   The group's drain time is the slowest consumer's.
 * - Changing the consumer count costs a rebalance pause first, during which nothing is
 *   consumed and arrivals pile up.
 */
import type { Observation } from '../types.ts'
import { type Assignor, assignPartitions, type TopicPartition } from './assignors.ts'

export interface PartitionLoad {
  topic: string
  partition: number
  /** Records waiting. */
  lag: number
  /** Records per second arriving (0 when unknown). */
  produceRate: number
}

export interface DrainModel {
  /** Consumer time per record, ms. */
  workMs: number
  parallelismPerPartition: number
  assignor: Assignor
  rebalancePauseMs: number
  /** Consumers now: any other count pays the rebalance pause. */
  current: number
}

export interface ConsumerLoad {
  /** Records this consumer has to work off. */
  backlog: number
  /** Records per second arriving on its slots. */
  inflow: number
}

/** Each consumer's share of the backlog and of the arrivals with n consumers. */
export function consumerLoads(loads: readonly PartitionLoad[], n: number, model: DrainModel): ConsumerLoad[] {
  const k = model.parallelismPerPartition
  const slots: TopicPartition[] = []
  const bySlot = new Map<string, PartitionLoad>()
  for (const p of loads) {
    for (let j = 0; j < k; j++) {
      // Slot j of partition p as a virtual partition p*k+j: keeps the topic/partition order assignors sort by.
      const slot = { topic: p.topic, partition: p.partition * k + j }
      slots.push(slot)
      bySlot.set(`${slot.topic}\u0000${slot.partition}`, p)
    }
  }
  return assignPartitions(slots, n, model.assignor).map((owned) => {
    let backlog = 0
    let inflow = 0
    for (const slot of owned) {
      const p = bySlot.get(`${slot.topic}\u0000${slot.partition}`)!
      backlog += p.lag / k
      inflow += p.produceRate / k
    }
    return { backlog, inflow }
  })
}

/** Time for one consumer to work off `backlog` while `inflow` records/s arrive; Infinity: never. */
export function consumerDrainMs(backlog: number, inflow: number, workMs: number): number {
  const capacity = 1000 / workMs
  if (backlog <= 0) return inflow > capacity ? Number.POSITIVE_INFINITY : 0
  if (inflow >= capacity) return Number.POSITIVE_INFINITY
  return (backlog / (capacity - inflow)) * 1000
}

function pauseFor(n: number, model: DrainModel): number {
  return n === model.current ? 0 : model.rebalancePauseMs
}

/** Predicted time to drain the backlog with n consumers, rebalance pause included; Infinity: never. */
export function drainTimeMs(loads: readonly PartitionLoad[], n: number, model: DrainModel): number {
  const anything = loads.some((p) => p.lag > 0 || p.produceRate > 0)
  if (n === 0) return anything ? Number.POSITIVE_INFINITY : 0
  const pause = pauseFor(n, model)
  let worst = 0
  for (const c of consumerLoads(loads, n, model)) {
    const t = consumerDrainMs(c.backlog + (c.inflow * pause) / 1000, c.inflow, model.workMs)
    if (t > worst) worst = t
  }
  return pause + worst
}

/** The same with the work spread perfectly over n consumers: what partitions would allow at best. */
export function idealDrainTimeMs(totalLag: number, totalRate: number, n: number, model: DrainModel): number {
  if (n === 0) return totalLag > 0 || totalRate > 0 ? Number.POSITIVE_INFINITY : 0
  const pause = pauseFor(n, model)
  return pause + consumerDrainMs((totalLag + (totalRate * pause) / 1000) / n, totalRate / n, model.workMs)
}

/**
 * With `partitions` partitions holding the backlog evenly (keyless producing spreads records
 * round robin) and min(partitions x k, maxConsumers) consumers: the count and the drain time.
 */
export function evenSpreadDrain(
  totalLag: number,
  totalRate: number,
  partitions: number,
  maxConsumers: number,
  model: DrainModel
): { consumers: number; ms: number } {
  const slots = partitions * model.parallelismPerPartition
  const consumers = Math.min(slots, maxConsumers)
  if (consumers === 0) return { consumers, ms: Number.POSITIVE_INFINITY }
  const perConsumer = Math.ceil(slots / consumers)
  const pause = pauseFor(consumers, model)
  const backlog = (perConsumer * totalLag) / slots
  const inflow = (perConsumer * totalRate) / slots
  return {
    consumers,
    ms: pause + consumerDrainMs(backlog + (inflow * pause) / 1000, inflow, model.workMs)
  }
}

/** Whether every consumer stays below `utilization` of its capacity with the arrivals alone. */
export function keepsUp(loads: readonly PartitionLoad[], n: number, model: DrainModel, utilization: number): boolean {
  if (n === 0) return !loads.some((p) => p.produceRate > 0)
  const capacity = 1000 / model.workMs
  return consumerLoads(loads, n, model).every((c) => c.inflow <= utilization * capacity)
}

export interface WorkTime {
  /** Consumer time per record, ms. */
  ms: number
  /** False: nothing could be measured, `ms` is the fallback. */
  measured: boolean
  /** Records the measurement rests on. */
  records: number
}

/**
 * Consumer time per record, from the consume rates of busy consumers: over each interval
 * between two adjacent non-stale observations within the window, a partition was busy when it
 * had lag at both ends and was consumed (its consumer never ran dry, so its rate is its full
 * speed). w = busy consumer-time / records those consumers processed: the records-weighted
 * average of 1000 / (a consumer's records per second).
 *
 * Who was busy: with k = 1 and owners known, the owners of busy partitions (all the records
 * they processed count, on every partition they own); otherwise one consumer per busy slot,
 * at most as many as the group has members.
 */
export function measureWorkTime(
  history: readonly Observation[],
  now: number,
  windowMs: number,
  parallelismPerPartition: number,
  fallbackMs: number
): WorkTime {
  let busyMs = 0
  let records = 0
  for (let i = 1; i < history.length; i++) {
    const prev = history[i - 1]!
    const cur = history[i]!
    const dt = cur.at - prev.at
    if (prev.stale || cur.stale || dt <= 0 || prev.at < now - windowMs) continue
    const prevLag = new Map(prev.partitions.map((p) => [`${p.topic}\u0000${p.partition}`, p.lag]))
    const busy = cur.partitions.filter(
      (p) => (p.consumeRate ?? 0) > 0 && p.lag > 0 && (prevLag.get(`${p.topic}\u0000${p.partition}`) ?? 0) > 0
    )
    if (busy.length === 0) continue
    let consumers: number
    let done: number
    if (parallelismPerPartition === 1 && busy.every((p) => p.owner !== undefined)) {
      const owners = new Set(busy.map((p) => p.owner))
      consumers = owners.size
      done = 0
      for (const p of cur.partitions) if (owners.has(p.owner)) done += ((p.consumeRate ?? 0) * dt) / 1000
    } else {
      const slots = busy.length * parallelismPerPartition
      consumers = cur.members.length > 0 ? Math.min(slots, cur.members.length) : slots
      done = 0
      for (const p of busy) done += ((p.consumeRate ?? 0) * dt) / 1000
    }
    busyMs += consumers * dt
    records += done
  }
  if (records <= 0) return { ms: fallbackMs, measured: false, records: 0 }
  return { ms: busyMs / records, measured: true, records }
}
