/**
 * The simulator: what a consumer group scaled by a lagscale policy does with a load, without
 * Kafka, in milliseconds. Deterministic: the same options (seed included) give the same result.
 *
 *   const result = simulate({ partitions: 1, records: 100, policy: 'seed', policyOptions: { ignorePartitionCap: true } })
 *   result.drainMs, result.consumerSeconds, result.decisions
 *
 * See docs/simulator.md for what it models and what it does not.
 */
import { createPolicy, type PolicyName } from '../autoscaler/policy/index.ts'
import type { Policy } from '../autoscaler/types.ts'
import { generateLoad } from './load.ts'
import { runModel } from './model.ts'
import { parseSimOptions, type SimOptions, type SimOptionsInput, withDurations } from './options.ts'
import { seededRandom } from './prng.ts'
import type { SimResult } from './types.ts'

export { generateLoad, type Load, type LoadOptions } from './load.ts'
export {
  MAX_RECORDS,
  parseSimOptions,
  type SimOptions,
  type SimOptionsInput,
  simOptionsSchema,
  withDurations
} from './options.ts'
export { formatSimJson, formatSimText, sparkline } from './report.ts'
export type * from './types.ts'

/** Runs one simulation; a bad option (the simulator's or the policy's) is a usage error. */
export function simulate(input: SimOptionsInput = {}): SimResult {
  const options = parseSimOptions(input)
  const policy = simPolicy(options)
  const load = generateLoad(options, seededRandom(options.seed))
  return runModel({ options, load, policy })
}

/**
 * The policy with its options. The drain policy is told the group's assignor and rebalance pause
 * (the simulated truth) unless its options say otherwise: they are facts about the group, not tuning.
 */
export function simPolicy(options: SimOptions): Policy {
  const given = withDurations(options.policyOptions)
  const name: PolicyName = options.policy
  if (name === 'drain') {
    return createPolicy('drain', { assignor: options.assignor, rebalancePauseMs: options.rebalancePauseMs, ...given })
  }
  return createPolicy(name, given)
}
