/**
 * The drain policy's model of a consumer group working off a backlog. Pure; a simulator can
 * reuse it.
 *
 * The model:
 * - Kafka gives each partition to exactly one consumer of the group; the assignment is the one
 *   the group's assignor makes from scratch for n consumers (no stickiness). Consumers beyond
 *   the partitions get nothing.
 * - A record takes `workMs` of handler time. A consumer works up to C records at once
 *   (`concurrencyPerConsumer`, the worker's --concurrency; 1 by default), at most k of one
 *   partition (`parallelismPerPartition`: 1 with ordering `partition`, C with `unordered`;
 *   k is taken as C when C < k). So one slot does 1000 / workMs records per second, a consumer
 *   owning the partitions P_c keeps min(C, |P_c| x k) slots busy, one partition at most k.
 * - Each consumer drains its own partitions while they keep receiving records (lag_p waiting,
 *   r_p per second arriving on partition p). With s = 1000 / workMs, it needs
 *     max( sum(lag_p) / (min(C, |P_c| x k) x s - sum(r_p)),  max_p lag_p / (k x s - r_p) )
 *   seconds: its slots are the bottleneck, or one partition that can use only k of them. It
 *   never finishes when the arrivals outrun either. With k = C = 1 this is the classic
 *   consumer working one record at a time: sum(lag_p) / (s - sum(r_p)).
 *   The group's drain time is the slowest consumer's.
 * - Changing the consumer count costs a rebalance pause first, during which nothing is
 *   consumed and arrivals pile up.
 */
import type { Observation, PartitionObservation } from '../types.ts'
import { type Assignor, assignPartitions } from './assignors.ts'

export interface PartitionLoad {
  topic: string
  partition: number
  /** Records waiting. */
  lag: number
  /** Records per second arriving (0 when unknown). */
  produceRate: number
}

export interface DrainModel {
  /** Handler time per record, ms. */
  workMs: number
  /** Records of one partition a consumer works at once (k); taken as C when above it. */
  parallelismPerPartition: number
  /** Records one consumer works at once over all its partitions (C); default 1. */
  concurrencyPerConsumer?: number
  assignor: Assignor
  rebalancePauseMs: number
  /** Consumers now: any other count pays the rebalance pause. */
  current: number
}

/** How many records run at once: in one consumer (C) and of one partition (k, at most C). */
export function recordsAtOnce(model: Pick<DrainModel, 'parallelismPerPartition' | 'concurrencyPerConsumer'>): {
  perConsumer: number
  perPartition: number
} {
  const perConsumer = Math.max(1, model.concurrencyPerConsumer ?? 1)
  return { perConsumer, perPartition: Math.max(1, Math.min(model.parallelismPerPartition, perConsumer)) }
}

export interface ConsumerLoad {
  /** The partitions the assignor gives this consumer (each to no other consumer). */
  partitions: PartitionLoad[]
  /** Records this consumer has to work off. */
  backlog: number
  /** Records per second arriving on its partitions. */
  inflow: number
  /** Records it can work at once: min(C, its partitions x k); 0 without partitions. */
  slots: number
}

/** Each consumer's partitions, backlog and arrivals with n consumers: one consumer per partition. */
export function consumerLoads(loads: readonly PartitionLoad[], n: number, model: DrainModel): ConsumerLoad[] {
  const { perConsumer, perPartition } = recordsAtOnce(model)
  const byPartition = new Map<string, PartitionLoad>()
  for (const p of loads) byPartition.set(`${p.topic}\u0000${p.partition}`, p)
  return assignPartitions(loads, n, model.assignor).map((owned) => {
    const partitions = owned.map((tp) => byPartition.get(`${tp.topic}\u0000${tp.partition}`)!)
    let backlog = 0
    let inflow = 0
    for (const p of partitions) {
      backlog += p.lag
      inflow += p.produceRate
    }
    return { partitions, backlog, inflow, slots: Math.min(perConsumer, partitions.length * perPartition) }
  })
}

/**
 * Time for `slots` records at once (default 1) to work off `backlog` while `inflow` records/s
 * arrive; Infinity: never.
 */
export function consumerDrainMs(backlog: number, inflow: number, workMs: number, slots = 1): number {
  const capacity = (slots * 1000) / workMs
  if (backlog <= 0) return inflow > capacity ? Number.POSITIVE_INFINITY : 0
  if (inflow >= capacity) return Number.POSITIVE_INFINITY
  return (backlog / (capacity - inflow)) * 1000
}

/**
 * One consumer's drain time (after `pauseMs` of arrivals piling up): its slots are the
 * bottleneck, or one partition that can use only k of them. When k = C a partition could use
 * all the slots, so the second bound never exceeds the first and is skipped.
 */
function ownDrainMs(c: ConsumerLoad, model: DrainModel, pauseMs: number): number {
  const { perConsumer, perPartition } = recordsAtOnce(model)
  let worst = consumerDrainMs(c.backlog + (c.inflow * pauseMs) / 1000, c.inflow, model.workMs, c.slots)
  if (perPartition < perConsumer) {
    for (const p of c.partitions) {
      const t = consumerDrainMs(p.lag + (p.produceRate * pauseMs) / 1000, p.produceRate, model.workMs, perPartition)
      if (t > worst) worst = t
    }
  }
  return worst
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
    const t = ownDrainMs(c, model, pause)
    if (t > worst) worst = t
  }
  return pause + worst
}

/** Records per second n consumers can work at most: every busy slot of every consumer. */
export function processingRate(loads: readonly PartitionLoad[], n: number, model: DrainModel): number {
  let slots = 0
  for (const c of consumerLoads(loads, n, model)) slots += c.slots
  return (slots * 1000) / model.workMs
}

/**
 * The same with the work spread perfectly over n consumers: what partitions would allow at
 * best. n consumers work n x C records at once, but no more than `partitions` x k when the
 * backlog is on that many partitions (default: on as many as it takes).
 */
export function idealDrainTimeMs(
  totalLag: number,
  totalRate: number,
  n: number,
  model: DrainModel,
  partitions = Number.POSITIVE_INFINITY
): number {
  if (n === 0) return totalLag > 0 || totalRate > 0 ? Number.POSITIVE_INFINITY : 0
  const { perConsumer, perPartition } = recordsAtOnce(model)
  const slots = Math.min(n * perConsumer, partitions * perPartition)
  const pause = pauseFor(n, model)
  return pause + consumerDrainMs((totalLag + (totalRate * pause) / 1000) / n, totalRate / n, model.workMs, slots / n)
}

/**
 * With `partitions` partitions holding the backlog and the arrivals evenly (keyless producing
 * spreads records round robin) and min(partitions, maxConsumers) consumers, each with
 * ceil(partitions / consumers) partitions and min(C, those partitions x k) records at once:
 * the count and the drain time.
 */
export function evenSpreadDrain(
  totalLag: number,
  totalRate: number,
  partitions: number,
  maxConsumers: number,
  model: DrainModel
): { consumers: number; ms: number } {
  const consumers = Math.min(partitions, maxConsumers)
  if (consumers === 0) return { consumers, ms: Number.POSITIVE_INFINITY }
  const perConsumer = Math.ceil(partitions / consumers)
  const pause = pauseFor(consumers, model)
  const { perConsumer: c, perPartition: k } = recordsAtOnce(model)
  const partition: PartitionLoad = {
    topic: '',
    partition: 0,
    lag: totalLag / partitions,
    produceRate: totalRate / partitions
  }
  const load: ConsumerLoad = {
    partitions: Array.from({ length: perConsumer }, () => partition),
    backlog: (perConsumer * totalLag) / partitions,
    inflow: (perConsumer * totalRate) / partitions,
    slots: Math.min(c, perConsumer * k)
  }
  return { consumers, ms: pause + ownDrainMs(load, model, pause) }
}

/** Whether every consumer (and every partition) stays below `utilization` of its capacity with the arrivals alone. */
export function keepsUp(loads: readonly PartitionLoad[], n: number, model: DrainModel, utilization: number): boolean {
  if (n === 0) return !loads.some((p) => p.produceRate > 0)
  const slot = 1000 / model.workMs
  const { perPartition } = recordsAtOnce(model)
  return consumerLoads(loads, n, model).every(
    (c) =>
      c.inflow <= utilization * ((c.slots * 1000) / model.workMs) &&
      c.partitions.every((p) => p.produceRate <= utilization * perPartition * slot)
  )
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
 * Handler time per record, from the consume rates of busy consumers: over each interval
 * between two adjacent non-stale observations within the window, a partition was busy when it
 * had lag at both ends and was consumed (its consumer never ran short of its records, so its
 * rate is its full speed). A busy consumer works min(C, its busy partitions x k) records at
 * once all along, so w = busy slot-time / records those slots processed: with k = C = 1, busy
 * consumer-time / records, the records-weighted average of 1000 / (a consumer's records per
 * second).
 *
 * Who was busy: with owners known, the owners of busy partitions, each with its own count of
 * busy partitions. A consumer whose busy partitions fill all its C slots spends every slot on
 * whatever it processes, so all its records count, on every partition it owns; otherwise only
 * those of its busy partitions (what its other partitions took of the spare slots is
 * unknown). Without owners: the busy partitions spread evenly over one consumer each, at most
 * as many consumers as the group has members, and their records.
 */
export function measureWorkTime(
  history: readonly Observation[],
  now: number,
  windowMs: number,
  parallelismPerPartition: number,
  fallbackMs: number,
  concurrencyPerConsumer = 1
): WorkTime {
  const { perConsumer: c, perPartition: k } = recordsAtOnce({ parallelismPerPartition, concurrencyPerConsumer })
  const key = (p: PartitionObservation) => `${p.topic}\u0000${p.partition}`
  let busyMs = 0
  let records = 0
  for (let i = 1; i < history.length; i++) {
    const prev = history[i - 1]!
    const cur = history[i]!
    const dt = cur.at - prev.at
    if (prev.stale || cur.stale || dt <= 0 || prev.at < now - windowMs) continue
    const prevLag = new Map(prev.partitions.map((p) => [key(p), p.lag]))
    const busy = cur.partitions.filter((p) => (p.consumeRate ?? 0) > 0 && p.lag > 0 && (prevLag.get(key(p)) ?? 0) > 0)
    if (busy.length === 0) continue
    let slots = 0
    let done = 0
    if (busy.every((p) => p.owner !== undefined)) {
      const busyPartitions = new Map<string | undefined, number>()
      for (const p of busy) busyPartitions.set(p.owner, (busyPartitions.get(p.owner) ?? 0) + 1)
      const full = new Set<string | undefined>()
      for (const [owner, n] of busyPartitions) {
        const s = Math.min(c, n * k)
        slots += s
        if (s === c) full.add(owner)
      }
      const busyKeys = new Set(busy.map(key))
      for (const p of cur.partitions) {
        if (full.has(p.owner) || busyKeys.has(key(p))) done += ((p.consumeRate ?? 0) * dt) / 1000
      }
    } else {
      const consumers = cur.members.length > 0 ? Math.min(busy.length, cur.members.length) : busy.length
      const each = Math.floor(busy.length / consumers)
      const extra = busy.length % consumers
      slots = extra * Math.min(c, (each + 1) * k) + (consumers - extra) * Math.min(c, each * k)
      for (const p of busy) done += ((p.consumeRate ?? 0) * dt) / 1000
    }
    busyMs += slots * dt
    records += done
  }
  if (records <= 0) return { ms: fallbackMs, measured: false, records: 0 }
  return { ms: busyMs / records, measured: true, records }
}
