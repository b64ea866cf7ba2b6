/**
 * lagscale's default policy: the fewest consumers whose predicted drain time for the current
 * backlog is within drainTargetMs (model in drain-model.ts), with:
 * - the partition cap on partitions with lag (Kafka gives a partition to one consumer, so
 *   consumers beyond them would idle, whatever the in-partition parallelism), and, when even
 *   the capped count misses the target, the partition count that would meet it;
 * - anti-flap: keep the current count while it meets the target; scale in only when the smaller
 *   count meets scaleInMargin x target and the lag is not rising;
 * - no lag: back to min, or to the fewest consumers that keep up with the arrivals, never out.
 */
import type { Observation, Policy } from '../types.ts'
import { finalize, freshObservation, goodHistory, partitionsWithLag, type Recommendation, totalLag } from './common.ts'
import {
  consumerLoads,
  type DrainModel,
  drainTimeMs,
  evenSpreadDrain,
  idealDrainTimeMs,
  keepsUp,
  measureWorkTime,
  type PartitionLoad,
  processingRate,
  recordsAtOnce
} from './drain-model.ts'
import { count, formatDuration, formatRate, formatRecords, formatWork } from './format.ts'
import type { DrainOptions } from './options.ts'

export function drainPolicy(options: DrainOptions): Policy {
  return (input) => {
    const fresh = freshObservation(input, 'drain', options.maxDataAgeMs)
    if (!fresh.ok) return fresh.decision
    const obs = fresh.observation
    const { now, state, limits } = input
    const current = state.current
    const concurrency = limits.concurrencyPerConsumer ?? 1
    const target = options.drainTargetMs

    const work = measureWorkTime(
      input.history,
      now,
      options.measureWindowMs,
      limits.parallelismPerPartition,
      options.recordTimeMs,
      concurrency
    )
    const model: DrainModel = {
      workMs: work.ms,
      parallelismPerPartition: limits.parallelismPerPartition,
      concurrencyPerConsumer: concurrency,
      assignor: options.assignor,
      rebalancePauseMs: options.rebalancePauseMs,
      current
    }
    const sustained = sustainedProduceRates(input.history)
    const loads: PartitionLoad[] = obs.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      lag: p.lag,
      produceRate: sustained.get(`${p.topic}\u0000${p.partition}`) ?? 0
    }))
    const lag = totalLag(obs)
    const rate = loads.reduce((sum, p) => sum + p.produceRate, 0)
    const withLag = partitionsWithLag(obs)
    const memo = new Map<number, number>()
    const drain = (n: number): number => {
      let t = memo.get(n)
      if (t === undefined) {
        t = drainTimeMs(loads, n, model)
        memo.set(n, t)
      }
      return t
    }
    const produced = rate > 0 ? `, ${formatRate(rate)} produced` : ''
    const workText = work.measured
      ? `work ${formatWork(work.ms)} per record (measured over ${formatRecords(Math.round(work.records))} records)`
      : `work ${formatWork(work.ms)} per record (assumed: none measured in the last ${formatDuration(options.measureWindowMs)})`
    const { perConsumer, perPartition } = recordsAtOnce(model)
    const parallel =
      perConsumer > 1
        ? `; each consumer works up to ${perConsumer} records at once, ${perPartition} of one partition`
        : ''
    const within = `(target ${formatDuration(target)})`
    const consumers = (n: number) => count(n, 'consumer')
    const drains = (n: number) => `${consumers(n)} ${n === 1 ? 'drains' : 'drain'}`
    const takes = (n: number) => `${consumers(n)} ${n === 1 ? 'takes' : 'take'}`
    const drainsIn = (n: number, how = '') =>
      Number.isFinite(drain(n))
        ? `${consumers(n)}${how} ${n === 1 ? 'drains' : 'drain'} it in ~${formatDuration(drain(n))}`
        : `${consumers(n)} never ${n === 1 ? 'drains' : 'drain'} it (${formatRate(rate)} produced, ${formatRate(processingRate(loads, n, model))} processed)`
    // " with 8 records at once": what the busiest of n consumers works at once on the partitions with lag.
    const atOnce = (n: number): string => {
      let most = 0
      for (const c of consumerLoads(loads, n, model)) {
        const withLagOwned = c.partitions.filter((p) => p.lag > 0).length
        most = Math.max(most, Math.min(perConsumer, withLagOwned * perPartition))
      }
      if (most <= 1) return ''
      return n === 1 ? ` with ${most} records at once` : ` with up to ${most} records at once each`
    }

    if (lag === 0) {
      // Never out on no lag: the current consumers keep up, whatever the (maybe assumed) work time says.
      // The count may go below min here: the shared rules raise it and say so.
      let desired = 0
      let reason = `no lag on ${count(obs.partitions.length, 'partition')}: no consumer needed`
      if (rate > 0) {
        let keepUp: number | undefined
        for (let n = 1; n <= Math.min(current, limits.max); n++) {
          if (keepsUp(loads, n, model, options.scaleInMargin)) {
            keepUp = n
            break
          }
        }
        desired = keepUp ?? current
        reason = `no lag on ${count(obs.partitions.length, 'partition')}${produced}; ${workText}${parallel}; ${consumers(desired)} ${desired === 1 ? 'keeps' : 'keep'} up (each at most ${Math.round(options.scaleInMargin * 100)} % busy)`
      }
      return finalize(input, 'drain', obs, { desired, reason, capBasis: 'partitions', estimateDrainMs: () => 0 })
    }

    const facts = `lag ${formatRecords(lag)} on ${withLag} of ${count(obs.partitions.length, 'partition')}${produced}; ${workText}${parallel}`
    // Searched from 1, not min: the shared rules raise the count to min and report the bound.
    const lo = 1
    const hi = limits.max
    // Kafka gives a partition to one consumer: parallelism makes each consumer faster, never adds consumers.
    const usable = withLag
    const fewestBest = (from: number, to: number): number => {
      let best = from
      for (let n = from + 1; n <= to; n++) if (drain(n) < drain(best)) best = n
      // Nothing drains it (inflow above capacity): the most consumers that can get work fall behind slowest.
      return Number.isFinite(drain(best)) ? best : Math.max(from, to)
    }
    let nStar: number | undefined
    for (let n = lo; n <= hi; n++) {
      if (drain(n) <= target) {
        nStar = n
        break
      }
    }
    let ideal: number | undefined
    for (let n = lo; n <= hi && nStar === undefined; n++) {
      if (idealDrainTimeMs(lag, rate, n, model) <= target) {
        ideal = n
        break
      }
    }
    const estimateDrainMs = drain

    if (hi < lo) {
      return finalize(input, 'drain', obs, {
        desired: hi,
        reason: `${facts}; max ${hi} consumers cannot drain it`,
        capBasis: 'none',
        estimateDrainMs
      })
    }

    const wanted = nStar ?? ideal ?? hi
    if (wanted > usable) {
      // More consumers than partitions with lag would idle: the best count within the cap.
      const top = Math.min(usable, hi)
      const desired = fewestBest(lo, top)
      const why =
        nStar !== undefined
          ? `${consumers(nStar)} would drain it in ~${formatDuration(drain(nStar))} ${within}`
          : ideal !== undefined
            ? `${consumers(ideal)} would drain it within ${formatDuration(target)} if the lag were spread over enough partitions`
            : `even max ${hi} would not drain it within ${formatDuration(target)}`
      return finalize(input, 'drain', obs, {
        desired,
        reason: `${facts}; ${why}; ${drainsIn(desired, atOnce(desired))}`,
        capBasis: 'partitions-with-lag',
        capByPolicy: true,
        cap: { uncapped: wanted, usable },
        recommend: () => recommendPartitions(obs, lag, rate, withLag, hi, target, model),
        estimateDrainMs
      })
    }

    if (nStar === undefined) {
      const top = Math.min(usable, hi)
      const best = fewestBest(lo, top)
      if (!Number.isFinite(drain(best))) {
        const capacity = processingRate(loads, top, model)
        return finalize(input, 'drain', obs, {
          desired: top,
          reason: `${facts}; the backlog never drains: ${formatRate(rate)} produced, ${consumers(top)} can process at most ${formatRate(capacity)}`,
          capBasis: 'partitions-with-lag',
          bound: top === hi ? 'max' : undefined,
          estimateDrainMs
        })
      }
      return finalize(input, 'drain', obs, {
        desired: best,
        reason: `${facts}; no count up to max ${hi} drains it within ${formatDuration(target)}; ${consumers(best)} at least ${best === 1 ? 'keeps' : 'keep'} up and ${best === 1 ? 'drains' : 'drain'} it fastest, in ~${formatDuration(drain(best))}`,
        capBasis: 'partitions-with-lag',
        bound: ideal === undefined && best === hi ? 'max' : undefined,
        estimateDrainMs
      })
    }

    const wish = (desired: number, reason: string) =>
      finalize(input, 'drain', obs, {
        desired,
        reason: `${facts}; ${reason}`,
        capBasis: 'partitions-with-lag',
        estimateDrainMs
      })
    const took = (n: number) => {
      const isCurrent = n === current
      if (!Number.isFinite(drain(n))) {
        return `${consumers(n)} ${isCurrent ? (n === 1 ? 'never drains' : 'never drain') : 'would never drain'} it`
      }
      return isCurrent
        ? `${takes(n)} ~${formatDuration(drain(n))}`
        : `${consumers(n)} would take ~${formatDuration(drain(n))}`
    }

    if (nStar > current) {
      return wish(nStar, `${took(current)}; ${drains(nStar)} it in ~${formatDuration(drain(nStar))} ${within}`)
    }
    if (nStar === current) {
      return wish(current, `${drains(current)} it in ~${formatDuration(drain(current))} ${within}`)
    }
    if (drain(current) > target) {
      return wish(nStar, `${took(current)}; ${drains(nStar)} it in ~${formatDuration(drain(nStar))} ${within}`)
    }
    const previous = previousGood(input.history)
    const before = previous ? totalLag(previous) : undefined
    if (before !== undefined && lag > before) {
      return wish(
        current,
        `${drains(current)} it in ~${formatDuration(drain(current))} ${within}; lag rising (${formatRecords(before)} -> ${formatRecords(lag)}), not scaling in`
      )
    }
    const margin = options.scaleInMargin * target
    for (let n = nStar; n < current; n++) {
      if (drain(n) <= margin) {
        return wish(
          n,
          `${takes(current)} ~${formatDuration(drain(current))}; ${drains(n)} it in ~${formatDuration(drain(n))}, within ${options.scaleInMargin} x target (${formatDuration(margin)})`
        )
      }
    }
    return wish(
      current,
      `${drains(current)} it in ~${formatDuration(drain(current))} ${within}; ${consumers(nStar)} would take ~${formatDuration(drain(nStar))}, not within ${options.scaleInMargin} x target (${formatDuration(margin)}): keeping ${current}`
    )
  }
}

function previousGood(history: readonly Observation[]): Observation | undefined {
  const good = goodHistory(history)
  return good.at(-2)
}

/**
 * The fewest partitions that would meet the target with the backlog spread evenly over them
 * and min(partitions, max) consumers, each working min(C, its partitions x k) records at once
 * (evenSpreadDrain). When the topics already have that many, the lag is just unevenly spread
 * (keyed records), and that is what the sentence says.
 */
function recommendPartitions(
  obs: Observation,
  lag: number,
  rate: number,
  withLag: number,
  max: number,
  target: number,
  model: DrainModel
): Recommendation {
  const have = obs.partitions.length
  const spread = evenSpreadDrain(lag, rate, have, max, model)
  if (withLag < have && spread.ms <= target) {
    return {
      text: `spread evenly over all ${count(have, 'partition')} it would drain in ~${formatDuration(spread.ms)}`
    }
  }
  let best: { partitions: number; ms: number } | undefined
  for (let p = have + 1; p <= have + max; p++) {
    const t = evenSpreadDrain(lag, rate, p, max, model)
    if (t.ms <= target) {
      return { partitions: p, text: `${p} partitions would drain this backlog in ~${formatDuration(t.ms)}` }
    }
    if (!best || t.ms < best.ms) best = { partitions: p, ms: t.ms }
  }
  // No partition count meets the target within max consumers: say what more partitions would still give.
  if (best && Number.isFinite(best.ms)) {
    return {
      text: `${best.partitions} partitions would drain it in ~${formatDuration(best.ms)}, still over the target with max ${max} consumers`
    }
  }
  return { text: `more partitions would not drain it with max ${max} consumers` }
}

/**
 * Records per second still arriving, per partition: the lower of the produce rates of the
 * last two intervals. A burst lands in one interval; it is backlog (already in the lag), not
 * a rate that goes on - counting it as inflow made the policy believe nothing could ever
 * drain it and ask for every consumer (bench:scale). With one interval seen, there is nothing
 * to compare with: its rate is taken as it is.
 */
export function sustainedProduceRates(history: readonly Observation[]): Map<string, number> {
  const good = history.filter((o) => !o.stale)
  const rates = new Map<string, number>()
  const last = good.at(-1)
  if (!last) return rates
  if (good.length < 3) {
    for (const p of last.partitions) rates.set(`${p.topic}\u0000${p.partition}`, p.produceRate ?? 0)
    return rates
  }
  const before = new Map(good.at(-2)!.partitions.map((p) => [`${p.topic}\u0000${p.partition}`, p.produceRate]))
  for (const p of last.partitions) {
    const key = `${p.topic}\u0000${p.partition}`
    rates.set(key, Math.min(p.produceRate ?? 0, before.get(key) ?? 0))
  }
  return rates
}
