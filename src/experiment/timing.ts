/**
 * The experiment's clock. The seed's handler sleeps 1000 ms per unit and its autoscaling thinks
 * in CloudWatch minutes; here a unit is WORK_UNIT_MS (e.g. 50 ms), and the policies' times that
 * are about the workload (periods, windows, cooldowns, drain target) shrink by the same factor,
 * so each policy behaves as it would at the seed's scale, only faster. What cannot shrink stays
 * real: a Node process's start-up, a group join, the broker's latency. The interval stays at
 * 1 s or more, so a lag reading (a few requests to the broker) is small next to it.
 */
import type { PolicyName } from '../autoscaler/policy/index.ts'
import type { ExperimentTiming } from './types.ts'

/**
 * 50 ms per unit: the matrix runs in ~13 min, and the 100-record cases still take 8-12 s, of
 * which the start-ups are about half (the error the simulator has to get right).
 */
export const DEFAULT_WORK_UNIT_MS = 50

/** The seed's and the policies' times at 1000 ms per unit, scaled by workUnitMs / 1000. */
export function experimentTiming(workUnitMs: number, rebalancePauseMs: number): ExperimentTiming {
  const scale = workUnitMs / 1000
  const scaled = (ms: number, min = 0) => Math.max(min, Math.round(ms * scale))
  const policyOptions: Record<PolicyName, Record<string, unknown>> = {
    // The seed's CloudWatch alarms: 60 s datapoints, scale in after 5 at 0; as it ran, no partition cap (S23).
    seed: { datapointMs: scaled(60_000, 1000), scaleInDatapoints: 5, ignorePartitionCap: true },
    // KEDA + HPA: 5 min scale-down stabilization, +100 % or +4 pods per 15 s.
    keda: { stabilizationWindowMs: scaled(300_000, 1000), scaleUpPeriodMs: scaled(15_000) },
    // lagscale's drain: a 60 s target, 1 unit per record until measured, the measured rebalance pause.
    drain: {
      drainTargetMs: scaled(60_000, 1000),
      recordTimeMs: Math.max(1, workUnitMs),
      measureWindowMs: scaled(300_000, 1000),
      rebalancePauseMs: Math.round(rebalancePauseMs)
    }
  }
  return {
    workUnitMs,
    scale,
    intervalMs: scaled(5000, 1000),
    scaleOutCooldownMs: scaled(10_000),
    scaleInCooldownMs: scaled(60_000),
    min: 1,
    max: 8,
    policyOptions
  }
}
