/**
 * The experiment's load: the simulator's own generator (src/sim/load.ts) with the simulator's
 * defaults, so the real run and its simulation get the same records: the seed's "send 100
 * messages" of random 0..10 units (seed 1), or a larger burst from the same generator, spread
 * round robin over the partitions (record i to partition i % P, as the simulator puts it; the
 * experiment produces each record to that partition explicitly).
 */
import { generateLoad } from '../sim/index.ts'
import { seededRandom } from '../sim/prng.ts'
import type { CaseLoad } from './analysis.ts'

export const VALUE_MAX = 10
export const LOAD_SEED = 1

export function caseLoad(records: number, partitions: number, seed = LOAD_SEED): CaseLoad {
  const load = generateLoad(
    {
      partitions,
      records,
      valueMax: VALUE_MAX,
      burstAtMs: 0,
      rate: 0,
      rateStartMs: 0,
      rateDurationMs: 0,
      firstPartition: 0
    },
    seededRandom(seed)
  )
  return { values: [...load.value], partitions: [...load.partition], partitionCount: partitions }
}
