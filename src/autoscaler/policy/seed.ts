/**
 * The seed's autoscaling, as it ran on AWS: two CloudWatch alarms on MSK's SumOffsetLag
 * driving Application Auto Scaling step scaling with ExactCapacity adjustments.
 *
 * - out alarm: SumOffsetLag > scaleOutThreshold for scaleOutDatapoints periods -> scaleOutTo
 * - in alarm:  SumOffsetLag <= scaleInThreshold for scaleInDatapoints periods -> scaleInTo
 *
 * It knows nothing about partitions: with 1 partition and lag it runs 8 consumers, 7 of them
 * idle. The shared partition cap fixes that unless `ignorePartitionCap` reproduces the seed.
 */
import type { Observation, Policy } from '../types.ts'
import { finalize, freshObservation } from './common.ts'
import { count, formatDuration, formatRecords } from './format.ts'
import type { SeedOptions } from './options.ts'

/** One CloudWatch datapoint: the Maximum of SumOffsetLag over [start, end); undefined when missing. */
export interface Datapoint {
  start: number
  end: number
  value?: number
}

/**
 * The last `n` complete periods before `now`, oldest first. Periods are aligned to multiples
 * of periodMs since the epoch, as CloudWatch aligns them to the clock; the period `now` falls
 * in is not complete yet and is left out. A period without a non-stale observation is missing.
 */
export function datapoints(history: readonly Observation[], now: number, periodMs: number, n: number): Datapoint[] {
  const lastEnd = Math.floor(now / periodMs) * periodMs
  const points: Datapoint[] = []
  for (let i = n; i >= 1; i--) {
    const end = lastEnd - (i - 1) * periodMs
    points.push({ start: end - periodMs, end })
  }
  const first = points[0]!.start
  for (const o of history) {
    if (o.stale || o.at < first || o.at >= lastEnd) continue
    const point = points[Math.floor((o.at - first) / periodMs)]!
    point.value = point.value === undefined ? o.sumOffsetLag : Math.max(point.value, o.sumOffsetLag)
  }
  return points
}

/*
 * Missing datapoints are treated as not breaching (CloudWatch treatMissingData: notBreaching)
 * for both alarms: a missing period neither scales out nor counts towards the zero-lag
 * periods of a scale-in. The seed's metric vanishes while the group rebalances or has no
 * members; not breaching keeps a gap from triggering either move.
 */
export function seedPolicy(options: SeedOptions): Policy {
  return (input) => {
    const fresh = freshObservation(input, 'seed', options.maxDataAgeMs)
    if (!fresh.ok) return fresh.decision
    const { history, now, state } = input
    const current = state.current
    const period = formatDuration(options.datapointMs)

    const out = datapoints(history, now, options.datapointMs, options.scaleOutDatapoints)
    const inn = datapoints(history, now, options.datapointMs, options.scaleInDatapoints)
    const outAlarm = out.every((d) => d.value !== undefined && d.value > options.scaleOutThreshold)
    const inBreaching = (d: Datapoint) => d.value !== undefined && d.value <= options.scaleInThreshold
    const inAlarm = inn.every(inBreaching)

    let desired = current
    let reason: string
    if (outAlarm) {
      // ExactCapacity from a scale-out alarm: never used to lower the count.
      desired = Math.max(current, options.scaleOutTo)
      reason = `SumOffsetLag ${values(out)} > ${options.scaleOutThreshold} in the last ${count(out.length, 'period')} of ${period}: out alarm, capacity ${options.scaleOutTo}`
    } else if (inAlarm) {
      desired = Math.min(current, options.scaleInTo)
      reason = `SumOffsetLag ${values(inn)} <= ${options.scaleInThreshold} in the last ${count(inn.length, 'period')} of ${period}: in alarm, capacity ${options.scaleInTo}`
    } else {
      let zeros = 0
      for (let i = inn.length - 1; i >= 0 && inBreaching(inn[i]!); i--) zeros++
      const last = inn.at(-1)!
      const lastValue = last.value === undefined ? 'missing' : formatRecords(last.value)
      reason =
        `no alarm at ${current}: SumOffsetLag ${lastValue} in the last period of ${period}; ` +
        `out needs > ${options.scaleOutThreshold} in ${count(options.scaleOutDatapoints, 'period')}, ` +
        `in needs <= ${options.scaleInThreshold} in ${options.scaleInDatapoints} (${zeros} so far)`
    }

    return finalize(input, 'seed', fresh.observation, {
      desired,
      reason,
      capBasis: options.ignorePartitionCap ? 'none' : 'partitions',
      capNote: `the seed would have run ${desired}`
    })
  }
}

function values(points: Datapoint[]): string {
  return points.map((d) => (d.value === undefined ? 'missing' : formatRecords(d.value))).join(', ')
}
