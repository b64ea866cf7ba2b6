import type { Ordering } from '../consumer/scheduler.ts'
import type { Observation } from './types.ts'

export interface WorkerParallelism {
  /** The workers' --concurrency: records one consumer works at once. */
  concurrency: number
  /** The workers' --ordering. */
  ordering: Ordering
}

/**
 * Records of one partition a consumer can work at once, for the policies: 1 with partition
 * ordering; the concurrency when unordered; with key ordering, at most the distinct keys in
 * the backlog (estimated from a sample of each lagging partition's oldest records; the
 * partition with the fewest keys decides, and with no sample yet we assume 1). Pure.
 */
export function parallelismPerPartition(worker: WorkerParallelism, observation: Observation | undefined): number {
  if (worker.ordering === 'partition' || worker.concurrency <= 1) return 1
  if (worker.ordering === 'unordered') return worker.concurrency
  const sampled = (observation?.partitions ?? []).filter((p) => p.lag > 0 && p.sampledKeys !== undefined)
  if (sampled.length === 0) return 1
  const fewest = Math.min(...sampled.map((p) => p.sampledKeys!))
  return Math.max(1, Math.min(worker.concurrency, fewest))
}
