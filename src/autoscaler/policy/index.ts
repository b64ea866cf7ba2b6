/**
 * The scaling policies: pure functions from the lag history to a decision.
 *
 *   const policy = createPolicy('drain', { drainTargetMs: 120_000 })
 *   const decision = policy({ now, history, state, limits })
 */
import type { Policy } from '../types.ts'
import { drainPolicy } from './drain.ts'
import { kedaPolicy } from './keda.ts'
import {
  type PolicyName,
  type PolicyOptionsByName,
  type PolicyOptionsInputByName,
  parsePolicyOptions
} from './options.ts'
import { seedPolicy } from './seed.ts'

export { ASSIGNORS, type Assignor, assignPartitions, type TopicPartition } from './assignors.ts'
export { type CapBasis, finalize, freshObservation, type Wish } from './common.ts'
export { drainPolicy } from './drain.ts'
export {
  consumerLoads,
  type DrainModel,
  drainTimeMs,
  evenSpreadDrain,
  idealDrainTimeMs,
  measureWorkTime,
  type PartitionLoad,
  processingRate,
  recordsAtOnce,
  type WorkTime
} from './drain-model.ts'
export { type KedaRecommendation, kedaPartitionLag, kedaPolicy, kedaRecommendation } from './keda.ts'
export {
  DRAIN_DEFAULTS,
  type DrainOptions,
  type DrainOptionsInput,
  drainOptionsSchema,
  KEDA_DEFAULTS,
  type KedaOptions,
  type KedaOptionsInput,
  kedaOptionsSchema,
  POLICY_NAMES,
  type PolicyName,
  type PolicyOptionsByName,
  type PolicyOptionsInputByName,
  parsePolicyOptions,
  policyOptionsSchemas,
  SEED_DEFAULTS,
  type SeedOptions,
  type SeedOptionsInput,
  seedOptionsSchema
} from './options.ts'
export { type Datapoint, datapoints, seedPolicy } from './seed.ts'

/** The policy `name` with its options validated (defaults filled in); a bad option is a usage error. */
export function createPolicy<N extends PolicyName>(name: N, options: PolicyOptionsInputByName[N] = {}): Policy {
  const parsed = parsePolicyOptions(name, options)
  switch (name) {
    case 'seed':
      return seedPolicy(parsed as PolicyOptionsByName['seed'])
    case 'keda':
      return kedaPolicy(parsed as PolicyOptionsByName['keda'])
    default:
      return drainPolicy(parsed as PolicyOptionsByName['drain'])
  }
}
