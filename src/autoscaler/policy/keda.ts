/**
 * KEDA's apache-kafka scaler (pkg/scalers/kafka_scaler.go) and the Kubernetes HPA it feeds:
 *
 * - per-partition lag = log end - committed; with no commit, reset policy 'latest' counts 1
 *   (so the scaler can activate) and 'earliest' counts the log-end offset itself, both 0 with
 *   scaleToZeroOnInvalidOffset. excludePersistentLag counts 0 for a partition whose committed
 *   offset did not move since the previous observation (still counted for activation).
 * - metric = total lag, capped at lagThreshold x partitions (or partitions with lag with
 *   limitToPartitionsWithLag; no cap with allowIdleConsumers); ensureEvenDistributionOfPartitions
 *   rounds the count up to a factor of the partition count. KEDA knows nothing about
 *   in-partition parallelism (limits.parallelismPerPartition, concurrencyPerConsumer): a
 *   partition goes to one consumer however many of its records that consumer works at once,
 *   so the cap is the partitions, as allowIdleConsumers: false means in KEDA, and the count is
 *   still total lag / lagThreshold.
 * - HPA, AverageValue target lagThreshold: recommendation ceil(metric / lagThreshold); no change
 *   within the 10 % tolerance; scale-down takes the highest recommendation of the
 *   stabilization window (scale-up window 0); scale-up is limited to +100 % or +4 pods per 15 s.
 * - activation (only with limits.min 0, as KEDA ignores it when minReplicaCount >= 1): active
 *   when total lag > activationLagThreshold; from 0 an active scaler goes to 1 and the HPA
 *   takes over; an inactive one goes to 0 once nothing was active for cooldownPeriod.
 *
 * Where lagscale deviates from KEDA/HPA:
 * - The cap is applied to the recommendation: KEDA compares floor(lag / threshold) with the
 *   bound, so a lag between bound x threshold and (bound + 1) x threshold still yields bound + 1
 *   replicas there (one idle); here the count never exceeds the bound.
 * - The HPA keeps a recommendation per 15 s sync; here every non-stale observation in the
 *   window gives one, computed from that observation alone (the tolerance applies to the newest
 *   only, as it needs the current count).
 * - The scale-up rate limit knows only the previous decision: it counts replicas added by a
 *   scale-out decided within scaleUpPeriodMs, not older ones inside the period.
 * - KEDA's pollingInterval and the HPA sync period are whatever rate the autoscaler calls the
 *   policy at; lagscale's cooldowns (limits) apply on top, set them to 0 for plain KEDA.
 * - A scaler error makes KEDA use its fallback; here stale data holds (the shared rule).
 * - Not modelled: partitionLimitation, idleReplicaCount, fallback, the scale-down rate limit
 *   (its default, 100 % per 15 s, never binds), and KEDA's metric in milli-units.
 */
import type { Observation, PartitionObservation, Policy } from '../types.ts'
import { type CapBasis, finalize, freshObservation, goodHistory } from './common.ts'
import { count, formatDuration, formatRecords, formatTime } from './format.ts'
import type { KedaOptions } from './options.ts'

/** What the scaler and the HPA make of one observation. */
export interface KedaRecommendation {
  at: number
  /** Sum of the per-partition lags KEDA counts (persistent lag excluded when asked). */
  totalLag: number
  /** The same, persistent lag included: decides activity. */
  totalLagWithPersistent: number
  partitions: number
  partitionsWithLag: number
  /** Partitions whose lag was left out as persistent. */
  persistent: number
  /** Partitions with no committed offset. */
  invalidOffsets: number
  active: boolean
  /** The metric KEDA reports (after even distribution and the cap). */
  metric: number
  /** ceil(metric before the cap / lagThreshold). */
  uncapped: number
  /** Consumers the cap allows (Infinity without a cap). */
  usable: number
  /** min(uncapped, usable): the HPA's raw recommendation. */
  recommendation: number
}

/** The lag KEDA counts for a partition: [lag, lag with persistent lag]. */
export function kedaPartitionLag(
  p: PartitionObservation,
  previous: PartitionObservation | undefined,
  options: Pick<KedaOptions, 'excludePersistentLag' | 'scaleToZeroOnInvalidOffset'>
): [number, number] {
  if (p.committedOffset === undefined) {
    if (options.scaleToZeroOnInvalidOffset) return [0, 0]
    // KEDA: 'latest' with no commit reports 1 so the scaler activates; 'earliest' reports the log-end offset.
    if (p.lagFrom === 'latest') return [1, 1]
    if (p.lagFrom === 'earliest') return [p.logEndOffset, p.logEndOffset]
  }
  if (
    options.excludePersistentLag &&
    p.committedOffset !== undefined &&
    previous?.committedOffset !== undefined &&
    previous.committedOffset === p.committedOffset
  ) {
    return [0, p.lag]
  }
  return [p.lag, p.lag]
}

export function kedaRecommendation(
  observation: Observation,
  previous: Observation | undefined,
  options: KedaOptions
): KedaRecommendation {
  const before = new Map(previous?.partitions.map((p) => [`${p.topic}\u0000${p.partition}`, p]))
  let totalLag = 0
  let totalLagWithPersistent = 0
  let partitionsWithLag = 0
  let persistent = 0
  let invalidOffsets = 0
  for (const p of observation.partitions) {
    const [lag, withPersistent] = kedaPartitionLag(p, before.get(`${p.topic}\u0000${p.partition}`), options)
    totalLag += lag
    totalLagWithPersistent += withPersistent
    if (lag > 0) partitionsWithLag++
    if (withPersistent > lag) persistent++
    if (p.committedOffset === undefined) invalidOffsets++
  }
  const partitions = observation.partitions.length
  const threshold = options.lagThreshold
  let metric = totalLag
  let usable = Number.POSITIVE_INFINITY
  const capped =
    !options.allowIdleConsumers || options.limitToPartitionsWithLag || options.ensureEvenDistributionOfPartitions
  if (capped) {
    if (options.ensureEvenDistributionOfPartitions) metric = nextFactor(totalLag, partitions, threshold) * threshold
    usable = options.limitToPartitionsWithLag ? partitionsWithLag : partitions
  }
  const uncapped = Math.ceil(metric / threshold)
  const recommendation = Math.min(uncapped, usable)
  if (recommendation < uncapped) metric = recommendation * threshold
  return {
    at: observation.at,
    totalLag,
    totalLagWithPersistent,
    partitions,
    partitionsWithLag,
    persistent,
    invalidOffsets,
    active: totalLagWithPersistent > options.activationLagThreshold,
    metric,
    uncapped,
    usable,
    recommendation
  }
}

/** KEDA's getNextFactorThatBalancesConsumersToTopicPartitions. */
function nextFactor(totalLag: number, partitions: number, threshold: number): number {
  for (let f = 1; f <= partitions; f++) {
    if (partitions % f === 0 && f * threshold >= totalLag) return f
  }
  return partitions
}

export function kedaPolicy(options: KedaOptions): Policy {
  const basis: CapBasis = options.allowIdleConsumers
    ? options.ensureEvenDistributionOfPartitions
      ? 'partitions'
      : 'none'
    : options.limitToPartitionsWithLag
      ? 'partitions-with-lag'
      : 'partitions'
  return (input) => {
    const fresh = freshObservation(input, 'keda', options.maxDataAgeMs)
    if (!fresh.ok) return fresh.decision
    const { now, state, limits } = input
    const current = state.current
    const threshold = options.lagThreshold

    // Only what the stabilization window and cooldownPeriod look at (the newest is always in).
    const good = goodHistory(input.history)
    const horizon = now - Math.max(options.stabilizationWindowMs, options.cooldownPeriodMs)
    let first = good.length - 1
    while (first > 0 && good[first - 1]!.at > horizon) first--
    const recs = good.slice(first).map((o, i) => kedaRecommendation(o, good[first + i - 1], options))
    const newest = recs.at(-1)!
    const parts = [describe(newest, options)]

    // HPA: tolerance, then stabilization, then the scale-up rate limit.
    let recNow = newest.recommendation
    if (current > 0) {
      const ratio = newest.metric / (threshold * current)
      if (Math.abs(1 - ratio) <= options.tolerance && recNow !== current) {
        parts.push(
          `within the HPA tolerance (${formatRecords(newest.metric)} / (${threshold} x ${current}) = ${ratio.toFixed(2)}, ±${options.tolerance}): stays at ${current}`
        )
        recNow = current
      }
    }
    let downRec = recNow
    let downFrom = newest
    for (const r of recs) {
      if (r !== newest && r.at > now - options.stabilizationWindowMs && r.recommendation > downRec) {
        downRec = r.recommendation
        downFrom = r
      }
    }
    let hpa = current
    if (hpa < recNow) hpa = recNow
    if (hpa > downRec) hpa = downRec
    if (hpa > recNow) {
      parts.push(
        `scale-down held at ${hpa} by the ${formatDuration(options.stabilizationWindowMs)} stabilization window (recommendation ${downFrom.recommendation} at ${formatTime(downFrom.at)}, lag ${formatRecords(downFrom.totalLag)})`
      )
    }
    const hpaMin = Math.max(limits.min, 1)
    if (hpa < hpaMin) hpa = hpaMin
    if (hpa > current && current > 0) {
      const last = state.lastDecision
      const periodStart =
        last && last.action === 'scale-out' && now - last.at < options.scaleUpPeriodMs ? last.from : current
      const limit = Math.max(
        Math.ceil(periodStart * (1 + options.scaleUpPercent / 100)),
        periodStart + options.scaleUpPods
      )
      if (hpa > limit) {
        parts.push(
          `HPA scale-up limit ${limit} (+${options.scaleUpPercent} % or +${options.scaleUpPods} from ${periodStart} per ${formatDuration(options.scaleUpPeriodMs)})`
        )
        hpa = limit
      }
    }

    // KEDA's own scaling to and from zero.
    let desired = hpa
    if (limits.min === 0) {
      const activation = `activationLagThreshold ${options.activationLagThreshold}`
      if (current === 0) {
        desired = newest.active ? 1 : 0
        parts.push(
          newest.active
            ? `active (lag ${formatRecords(newest.totalLagWithPersistent)} > ${activation}): KEDA activates at 1, the HPA takes over from there`
            : `inactive (lag ${formatRecords(newest.totalLagWithPersistent)} <= ${activation}): stays at 0`
        )
      } else if (!newest.active) {
        const lastActive = recs.findLast((r) => r.active)
        const since = lastActive ? now - lastActive.at : Number.POSITIVE_INFINITY
        if (since > options.cooldownPeriodMs) {
          desired = 0
          parts.push(
            `inactive (lag ${formatRecords(newest.totalLagWithPersistent)} <= ${activation}) for longer than cooldownPeriod ${formatDuration(options.cooldownPeriodMs)}${lastActive ? ` (last active at ${formatTime(lastActive.at)})` : ''}: scale to zero`
          )
        } else {
          parts.push(
            `inactive (lag ${formatRecords(newest.totalLagWithPersistent)} <= ${activation}); zero after cooldownPeriod ${formatDuration(options.cooldownPeriodMs)}, ${formatDuration(options.cooldownPeriodMs - since)} left`
          )
        }
      }
    }

    const uncapped = Math.min(newest.uncapped, limits.max)
    const capApplies = desired > 0 && uncapped > newest.usable && desired <= newest.usable
    return finalize(input, 'keda', fresh.observation, {
      desired,
      reason: parts.join('; '),
      capBasis: basis,
      capByPolicy: true,
      cap: capApplies ? { uncapped, usable: newest.usable } : undefined
    })
  }
}

function describe(r: KedaRecommendation, options: KedaOptions): string {
  const extras: string[] = []
  if (r.persistent > 0) extras.push(`persistent lag on ${count(r.persistent, 'partition')} left out`)
  if (r.invalidOffsets > 0) extras.push(`${count(r.invalidOffsets, 'partition')} without a committed offset`)
  const even = options.ensureEvenDistributionOfPartitions
    ? `, rounded up to ${r.uncapped}, a factor of ${count(r.partitions, 'partition')}`
    : ''
  return (
    `total lag ${formatRecords(r.totalLag)} on ${count(r.partitions, 'partition')} (${r.partitionsWithLag} with lag)` +
    (extras.length ? ` (${extras.join(', ')})` : '') +
    `, lagThreshold ${options.lagThreshold}: ceil(${formatRecords(r.totalLag)} / ${options.lagThreshold}) = ${Math.ceil(r.totalLag / options.lagThreshold)}${even}`
  )
}
