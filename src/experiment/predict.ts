/**
 * The simulator's prediction for a case: the same records (values and partitions), the same
 * policy with the same options, limits, interval and cooldowns, the workers' concurrency and
 * ordering, one consumer already in the group (as in the real run), the load produced at the
 * same moment after the tick (burstAtMs) on the same wall clock (startEpochMs, so the seed
 * policy's CloudWatch periods fall where they fell), and the start-up and rebalance pause the
 * calibration measured on this machine. Nothing measured in the case itself goes in.
 */
import { type SimResult, simulate } from '../sim/index.ts'
import type { CaseLoad } from './analysis.ts'
import { VALUE_MAX } from './load.ts'
import type { Calibration, CaseSpec, ExperimentTiming, Measured, Prediction } from './types.ts'

export interface PredictInput {
  spec: CaseSpec
  load: CaseLoad
  timing: ExperimentTiming
  calibration: Pick<Calibration, 'startupMs' | 'rebalancePauseMs'>
  /** The load was produced this long after the origin tick. */
  burstAtMs: number
  /** Epoch ms of the origin tick. */
  startEpochMs: number
  /** As the real case: stop this long after the drain if the pool is not back at min. */
  settleMs: number
}

export function simulateCase(input: PredictInput): SimResult {
  const { spec, load, timing, calibration } = input
  return simulate({
    topic: 'experiment',
    partitions: spec.partitions,
    values: load.values,
    valueMax: VALUE_MAX,
    burstAtMs: Math.max(0, Math.round(input.burstAtMs)),
    firstPartition: 0,
    workUnitMs: timing.workUnitMs,
    startupMs: Math.round(calibration.startupMs),
    rebalancePauseMs: Math.round(calibration.rebalancePauseMs),
    initialConsumers: 1,
    min: timing.min,
    max: timing.max,
    policy: spec.policy,
    policyOptions: timing.policyOptions[spec.policy],
    intervalMs: timing.intervalMs,
    scaleOutCooldownMs: timing.scaleOutCooldownMs,
    scaleInCooldownMs: timing.scaleInCooldownMs,
    concurrency: spec.concurrency,
    ordering: spec.ordering,
    assignor: 'roundrobin',
    startEpochMs: Math.round(input.startEpochMs),
    settleMs: Math.round(input.settleMs),
    maxDurationMs: 6 * 3_600_000
  })
}

/** The parts of a simulation the report compares, with the drain time's error against the measured one. */
export function toPrediction(sim: SimResult, measured?: Pick<Measured, 'drainMs'>): Prediction {
  const prediction: Prediction = {
    consumerSeconds: sim.consumerSeconds,
    peak: sim.peak,
    rebalances: { count: sim.rebalances.count, pauseMs: sim.rebalances.pauseMs },
    series: sim.series,
    consumers: sim.consumers,
    lag: sim.lag.map((l) => ({ t: l.t, lag: l.lag, sum: l.sumLag })),
    endMs: sim.endMs
  }
  if (sim.drainMs !== undefined) {
    prediction.drainMs = sim.drainMs
    if (measured?.drainMs) prediction.drainErrorPct = ((sim.drainMs - measured.drainMs) / measured.drainMs) * 100
  }
  return prediction
}
