/**
 * The records a run produces: when, how much work, which partition. Seeded, so a seed gives
 * the same load on every machine.
 *
 * Partitions: the project's producer sends keyless records round robin, one record after the
 * other over the partitions, continuing across sends (src/producer/send-service.ts,
 * src/kafka/partitioner.ts). Record i of the run, in production order, goes to
 * (firstPartition + i) % partitions; the real producer starts at a random partition, which only
 * renames the partitions.
 */
import { type Random, randomInt } from './prng.ts'

export interface LoadOptions {
  partitions: number
  records: number
  values?: readonly number[] | undefined
  valueMax: number
  burstAtMs: number
  rate: number
  rateStartMs: number
  rateDurationMs: number
  firstPartition: number
}

/** Records by id, in production order (time, then burst before rate). */
export interface Load {
  count: number
  /** Simulated ms when each record is appended to its partition. */
  producedAt: Float64Array
  /** Work units (the seed's message value). */
  value: Int32Array
  partition: Int32Array
}

export function generateLoad(options: LoadOptions, random: Random): Load {
  const burst = options.values ?? Array.from({ length: options.records }, () => randomInt(random, 0, options.valueMax))
  const rateCount = options.rate > 0 ? Math.floor((options.rate * options.rateDurationMs) / 1000) : 0
  const rateAt = (i: number) => options.rateStartMs + (i * 1000) / options.rate
  const count = burst.length + rateCount
  const producedAt = new Float64Array(count)
  const value = new Int32Array(count)
  const partition = new Int32Array(count)
  // Merge the burst (all at burstAtMs) into the rate's records by time; the burst goes first on a tie.
  let b = 0
  let r = 0
  for (let i = 0; i < count; i++) {
    const takeBurst = b < burst.length && (r >= rateCount || options.burstAtMs <= rateAt(r))
    if (takeBurst) {
      producedAt[i] = options.burstAtMs
      value[i] = burst[b++]!
    } else {
      producedAt[i] = rateAt(r++)
      value[i] = randomInt(random, 0, options.valueMax)
    }
    partition[i] = (options.firstPartition + i) % options.partitions
  }
  return { count, producedAt, value, partition }
}
