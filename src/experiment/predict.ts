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
  calibration: Pick<Calibration, 'startupMs' | 'rebalancePauseMs'> &
    Partial<Pick<Calibration, 'singleStartMs' | 'workers'>>
  /** The load was produced this long after the simulation's start (a tick a few ticks before the load). */
  burstAtMs: number
  /** Epoch ms of that tick. */
  startEpochMs: number
  /** The loop's period as it ran (default: the configured interval). */
  intervalMs?: number
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
    ...startupModel(calibration),
    rebalancePauseMs: Math.round(calibration.rebalancePauseMs),
    initialConsumers: 1,
    min: timing.min,
    max: timing.max,
    policy: spec.policy,
    policyOptions: timing.policyOptions[spec.policy],
    intervalMs: Math.max(100, Math.round(input.intervalMs ?? timing.intervalMs)),
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

/**
 * Start-up as the calibration measured it: one worker starting alone (singleStartMs, 1 -> 2),
 * and workers - 1 starting together (startupMs); both to the first assignment, less the
 * rebalance pause the simulator adds after the join. In between, each other process starting
 * at the same time adds the same share: the simulator's processes load on shared cores
 * (startupPerConcurrentMs of each start-up), so one spawned while others load slows them too.
 * Without the lone start, or when it was not faster: one start-up for every start.
 */
export function startupModel(c: PredictInput['calibration']): { startupMs: number; startupPerConcurrentMs: number } {
  const together = (c.workers ?? 0) - 1
  const single = c.singleStartMs === undefined ? undefined : Math.max(0, c.singleStartMs - c.rebalancePauseMs)
  if (single === undefined || together < 2 || single >= c.startupMs) {
    return { startupMs: Math.round(c.startupMs), startupPerConcurrentMs: 0 }
  }
  return {
    startupMs: Math.round(single),
    startupPerConcurrentMs: Math.round((c.startupMs - single) / (together - 1))
  }
}

/**
 * The parts of a simulation the report compares, with the drain time's error against the measured
 * one. `shiftMs`: the simulation started this long before the case's origin; its times are moved
 * to the origin's clock and its cost counted from the origin, as the measured one is.
 */
export function toPrediction(sim: SimResult, measured?: Pick<Measured, 'drainMs'>, shiftMs = 0): Prediction {
  const at = (t: number) => Math.max(0, t - shiftMs)
  const series: SimResult['series'] = []
  for (const p of sim.series) {
    const point = { ...p, t: at(p.t) }
    if (series.length > 0 && series.at(-1)!.t === point.t) series[series.length - 1] = point
    else series.push(point)
  }
  const consumers = sim.consumers.map((c) => {
    const moved = { ...c, requestedMs: c.requestedMs - shiftMs }
    if (c.joinedMs !== undefined) moved.joinedMs = c.joinedMs - shiftMs
    if (c.stopRequestedMs !== undefined) moved.stopRequestedMs = c.stopRequestedMs - shiftMs
    if (c.leftMs !== undefined) moved.leftMs = c.leftMs - shiftMs
    const from = Math.max(c.requestedMs, shiftMs)
    const until = c.leftMs ?? sim.endMs
    moved.lifetimeMs = Math.max(0, until - from)
    return moved
  })
  const prediction: Prediction = {
    consumerSeconds: consumers.reduce((s, c) => s + c.lifetimeMs, 0) / 1000,
    peak: sim.peak,
    rebalances: { count: sim.rebalances.count, pauseMs: sim.rebalances.pauseMs },
    series,
    consumers,
    lag: sim.lag.filter((l) => l.t >= shiftMs).map((l) => ({ t: l.t - shiftMs, lag: l.lag, sum: l.sumLag })),
    endMs: sim.endMs - shiftMs
  }
  if (sim.drainMs !== undefined) {
    prediction.drainMs = sim.drainMs
    if (measured?.drainMs) prediction.drainErrorPct = ((sim.drainMs - measured.drainMs) / measured.drainMs) * 100
  }
  return prediction
}
