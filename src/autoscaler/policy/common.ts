/**
 * The rules every policy shares, applied after the policy's own wish: no scaling on stale
 * data, the [min, max] bounds, the partition cap (never more consumers than can get work)
 * and the cooldowns. Pure.
 *
 * Kafka gives each partition to exactly one consumer of the group, so the consumers that can
 * get work are the partitions (or those with lag), whatever the in-partition parallelism:
 * records of one partition worked at once (limits.parallelismPerPartition) make that one
 * consumer faster, they never let a second consumer share the partition.
 */
import type { Decision, DecisionAction, Observation, PartitionCap, PolicyInput } from '../types.ts'
import { recordsAtOnce } from './drain-model.ts'
import { count, formatDuration, formatSeconds, formatSecondsLeft, formatTime } from './format.ts'

/** What the partition cap counts: every partition, only those with lag, or nothing (no cap). */
export type CapBasis = 'partitions' | 'partitions-with-lag' | 'none'

export type Freshness = { ok: true; observation: Observation } | { ok: false; decision: Decision }

/**
 * The newest observation when it is good to scale on; otherwise a hold at state.current.
 * Stale means flagged stale by the monitor (it repeats old data), or older than maxDataAgeMs
 * (the monitor stopped delivering): a decision on either could undo a correct one.
 */
export function freshObservation(input: PolicyInput, policy: string, maxDataAgeMs: number): Freshness {
  const { history, now, state } = input
  const hold = (why: string): Freshness => ({
    ok: false,
    decision: {
      at: now,
      policy,
      desired: state.current,
      from: state.current,
      action: 'hold',
      reason: `hold at ${state.current}: ${why}; not scaling without fresh data`
    }
  })
  const newest = history.at(-1)
  if (!newest) return hold('no lag data yet (no observation)')
  if (newest.stale) {
    let firstStale = history.length - 1
    while (firstStale > 0 && history[firstStale - 1]!.stale) firstStale--
    const since = history[firstStale]!.at
    const lastGood = firstStale > 0 ? history[firstStale - 1] : undefined
    const error = newest.error ? ` (${newest.error})` : ''
    const good = lastGood ? `last good data at ${formatTime(lastGood.at)}` : 'no good data yet'
    return hold(`lag data is stale since ${formatTime(since)}, ${formatSeconds(now - since)} ago${error}; ${good}`)
  }
  const age = now - newest.at
  if (age > maxDataAgeMs) {
    return hold(
      `lag data is stale: the newest observation is from ${formatTime(newest.at)}, ${formatSeconds(age)} old (more than ${formatSeconds(maxDataAgeMs)})`
    )
  }
  return { ok: true, observation: newest }
}

/** The non-stale observations, oldest first. */
export function goodHistory(history: readonly Observation[]): Observation[] {
  return history.filter((o) => !o.stale)
}

export function totalLag(observation: Observation): number {
  let sum = 0
  for (const p of observation.partitions) sum += p.lag
  return sum
}

export function partitionsWithLag(observation: Observation): number {
  return observation.partitions.filter((p) => p.lag > 0).length
}

/** Consumers that can get work under the cap (one per partition); Infinity for 'none'. */
export function usableConsumers(observation: Observation, basis: CapBasis): number {
  if (basis === 'none') return Number.POSITIVE_INFINITY
  return basis === 'partitions' ? observation.partitions.length : partitionsWithLag(observation)
}

/** "Topic_from_java has 1 partition", "topics a, b have 3 partitions with lag". */
export function describePartitions(observation: Observation, basis: CapBasis): string {
  const topics = observation.topics.length
    ? observation.topics
    : [...new Set(observation.partitions.map((p) => p.topic))]
  const n = basis === 'partitions-with-lag' ? partitionsWithLag(observation) : observation.partitions.length
  const who = topics.length === 1 ? `${topics[0]} has` : `topics ${topics.join(', ')} have`
  return `${who} ${count(n, 'partition')}${basis === 'partitions-with-lag' ? ' with lag' : ''}`
}

export interface Recommendation {
  /** Set only when it is more partitions than the topics have. */
  partitions?: number
  text: string
}

/** What a policy wants before the shared rules. */
export interface Wish {
  desired: number
  /** The policy's own sentence(s), with the numbers that drove it. */
  reason: string
  /** What the partition cap counts; 'none' turns the cap off. */
  capBasis: CapBasis
  /**
   * True when the policy applied the cap itself (it needs the capped count for its own
   * choices, or caps each recommendation as KEDA does): the shared rules then do not cap
   * again and only report `cap`, which the policy sets when the cap lowered its count.
   */
  capByPolicy?: boolean
  cap?: { uncapped: number; usable: number }
  /** Appended to the cap sentence, e.g. what the seed would have done. */
  capNote?: string
  /** How more partitions would help, when the cap binds; default: enough partitions for every consumer. */
  recommend?: (cap: { uncapped: number; usable: number }) => Recommendation | undefined
  /** The policy's own choice was held by a bound (it searched within [min, max]). */
  bound?: 'min' | 'max'
  /** Predicted drain time for a consumer count (Infinity: never), to report for the final count. */
  estimateDrainMs?: (consumers: number) => number
}

/** Applies max, the partition cap, min and the cooldowns to a wish; sets action, cap, bound. */
export function finalize(input: PolicyInput, policy: string, observation: Observation, wish: Wish): Decision {
  const { now, state, limits } = input
  const current = state.current
  const parts = [wish.reason]
  let n = wish.desired
  let bound = wish.bound

  if (n > limits.max) {
    parts.push(`held at max ${limits.max} (wanted ${n})`)
    n = limits.max
    bound = 'max'
  }

  let capFound = wish.capByPolicy ? wish.cap : undefined
  if (!wish.capByPolicy && wish.capBasis !== 'none') {
    const usable = usableConsumers(observation, wish.capBasis)
    if (n > usable) capFound = { uncapped: n, usable }
  }
  let cap: PartitionCap | undefined
  if (capFound && capFound.usable < capFound.uncapped) {
    cap = { ...capFound }
    n = Math.min(n, capFound.usable)
    if (bound === 'max') bound = undefined
    const idle = capFound.uncapped - capFound.usable
    let sentence = `capped at ${capFound.usable}: ${describePartitions(observation, wish.capBasis)}, ${count(idle, 'more consumer')} would idle`
    if (wish.capNote) sentence += ` (${wish.capNote})`
    // In-partition parallelism makes each of those consumers faster; it never adds one. Policies with their own
    // recommendation (drain) say it with their drain time.
    const atOnce = recordsAtOnce(limits).perPartition
    if (!wish.recommend && atOnce > 1) {
      sentence +=
        capFound.usable === 1
          ? `; the consumer works up to ${atOnce} records of its partition at once`
          : `; each of the ${capFound.usable} consumers works up to ${atOnce} records of its partition at once`
    }
    const rec = wish.recommend ? wish.recommend(capFound) : defaultRecommendation(observation, capFound)
    if (rec) {
      if (rec.partitions !== undefined) cap.recommendedPartitions = rec.partitions
      sentence += `; ${rec.text}`
    }
    parts.push(sentence)
  }

  if (n < limits.min) {
    parts.push(`raised to min ${limits.min}`)
    n = limits.min
    bound = 'min'
  }

  const cooldown = cooldownLeft(input, n)
  if (cooldown) {
    const held = Math.min(Math.max(current, limits.min), limits.max)
    const direction = n > current ? 'out' : 'in'
    parts.unshift(
      `hold: cooldown, ${formatSecondsLeft(cooldown.leftMs)} left before scaling ${direction} to ${n} (${cooldown.what})`
    )
    bound = held === current ? undefined : held === limits.min ? 'min' : 'max'
    cap = undefined
    n = held
  }

  const decision: Decision = {
    at: now,
    policy,
    desired: n,
    from: current,
    action: actionFor(n, current),
    reason: parts.join('; ')
  }
  if (cap) decision.cap = cap
  if (bound) decision.bound = bound
  const estimate = wish.estimateDrainMs?.(n)
  if (estimate !== undefined && Number.isFinite(estimate)) decision.estimatedDrainMs = Math.round(estimate)
  return decision
}

export function actionFor(desired: number, current: number): DecisionAction {
  return desired > current ? 'scale-out' : desired < current ? 'scale-in' : 'hold'
}

/** How long a move from state.current to `desired` still has to wait, if at all. */
export function cooldownLeft(input: PolicyInput, desired: number): { leftMs: number; what: string } | undefined {
  const { now, state, limits } = input
  if (desired > state.current && state.lastScaleOutAt !== undefined) {
    const leftMs = state.lastScaleOutAt + limits.scaleOutCooldownMs - now
    if (leftMs > 0) {
      return {
        leftMs,
        what: `scale-out cooldown ${formatDuration(limits.scaleOutCooldownMs)} after the scale-out at ${formatTime(state.lastScaleOutAt)}`
      }
    }
  }
  if (desired < state.current) {
    const last = Math.max(
      state.lastScaleOutAt ?? Number.NEGATIVE_INFINITY,
      state.lastScaleInAt ?? Number.NEGATIVE_INFINITY
    )
    if (Number.isFinite(last)) {
      const leftMs = last + limits.scaleInCooldownMs - now
      if (leftMs > 0) {
        return {
          leftMs,
          what: `scale-in cooldown ${formatDuration(limits.scaleInCooldownMs)} after the scale at ${formatTime(last)}`
        }
      }
    }
  }
  return undefined
}

/** Enough partitions for every wanted consumer to get work: one each. */
function defaultRecommendation(observation: Observation, cap: { uncapped: number; usable: number }): Recommendation {
  const needed = cap.uncapped
  const text = `${needed} partitions would give all ${cap.uncapped} consumers work`
  return needed > observation.partitions.length ? { partitions: needed, text } : { text }
}
