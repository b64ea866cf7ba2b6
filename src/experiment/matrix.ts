/**
 * The cases: partitions 1 / 8 (= max consumers) / 16 / 32 (> max consumers) x the seed, keda
 * and drain policies, plus 1 partition with in-partition parallelism (--concurrency 8
 * --ordering unordered), on the seed's 100 records; a subset on 2,000 records.
 */
import { POLICY_NAMES, type PolicyName } from '../autoscaler/policy/index.ts'
import type { Ordering } from '../consumer/scheduler.ts'
import { usageError } from '../errors.ts'
import type { CaseSpec } from './types.ts'

export const SMALL_LOAD = 100
export const LARGE_LOAD = 2000

export function caseId(partitions: number, policy: PolicyName, records: number, concurrency = 1): string {
  return `p${partitions}${concurrency > 1 ? `-c${concurrency}` : ''}-${policy}-${records}`
}

function spec(
  partitions: number,
  policy: PolicyName,
  records: number,
  concurrency = 1,
  ordering: Ordering = 'partition'
): CaseSpec {
  return { id: caseId(partitions, policy, records, concurrency), partitions, policy, records, concurrency, ordering }
}

export interface MatrixOptions {
  /** A few cases only (about 2 minutes). */
  quick?: boolean
  /** Include the 2,000-record subset (default true; not with quick). */
  large?: boolean
  /** Only these case ids (from the full matrix). */
  only?: string[]
}

export function caseMatrix(options: MatrixOptions = {}): CaseSpec[] {
  const all: CaseSpec[] = []
  for (const partitions of [1, 8, 16, 32]) {
    for (const policy of POLICY_NAMES) all.push(spec(partitions, policy, SMALL_LOAD))
  }
  all.push(spec(1, 'drain', SMALL_LOAD, 8, 'unordered'))
  const large = [
    spec(8, 'seed', LARGE_LOAD),
    spec(8, 'keda', LARGE_LOAD),
    spec(8, 'drain', LARGE_LOAD),
    spec(32, 'drain', LARGE_LOAD),
    spec(1, 'drain', LARGE_LOAD, 8, 'unordered')
  ]
  if (options.only && options.only.length > 0) {
    const known = new Map([...all, ...large].map((c) => [c.id, c]))
    return options.only.map((id) => {
      const c = known.get(id)
      if (!c) throw usageError(`--cases: unknown case ${id}; known: ${[...known.keys()].join(', ')}`)
      return c
    })
  }
  if (options.quick) {
    return [spec(1, 'seed', SMALL_LOAD), spec(8, 'drain', SMALL_LOAD), spec(1, 'drain', SMALL_LOAD, 8, 'unordered')]
  }
  return options.large === false ? all : [...all, ...large]
}
