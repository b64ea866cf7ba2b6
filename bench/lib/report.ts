import { fmt, fmtInt } from './progress.ts'

export type Step = 'produce' | 'consume'
export type Client = 'lagscale' | 'kafka'

/** One client's run of one step, normalized so lagscale and Kafka's tools line up. */
export interface Measure {
  client: Client
  topic: string
  /** The rate the ratio uses (see RATE_BASIS). */
  recordsPerSec: number
  mbPerSec: number
  /** consume: rate with the group join included (kafka-consumer-perf-test's headline nMsg.sec). */
  inclJoinRecordsPerSec?: number
  joinMs?: number
  /** Process spawn -> exit: JVM / Node start-up and shutdown included. */
  wallMs: number
  wallRecordsPerSec: number
  /** CPU of the client process, start-up included (undefined without /usr/bin/time for Java). */
  clientCpuMs: number | undefined
  /** CPU the broker used while the step ran. */
  brokerCpuMs: number | undefined
  raw: unknown
}

export interface RoundResult {
  round: number
  order: Client[]
  produce: Record<Client, Measure>
  consume: Record<Client, Measure>
  /** --diagnose: lagscale's consumer.fetch() alone on the consume topic. */
  fetchOnly?: Measure
}

export interface Summary {
  lagscale: Aggregate
  kafka: Aggregate
  /** median(lagscale.recordsPerSec) / median(kafka.recordsPerSec) */
  ratio: number
  wallRatio: number
  /** The same ratio per round (lagscale and Kafka measured back to back). */
  roundRatios: number[]
}

export interface Aggregate {
  recordsPerSec: number
  mbPerSec: number
  inclJoinRecordsPerSec?: number
  joinMs?: number
  wallRecordsPerSec: number
  clientCpuMs: number | undefined
  brokerCpuMs: number | undefined
  /** Every round's recordsPerSec, for the spread. */
  rounds: number[]
}

/**
 * Which rate each ratio compares, and why.
 * - produce: kafka-producer-perf-test's own records/sec (its clock runs from the first
 *   send to the last acknowledgement; the producer is created but not connected before)
 *   against lagscale's first-record-to-last-ack time with the producer created the same way.
 *   The wall clock also counts JVM start-up (about a second), which says nothing about the
 *   client's throughput, so it is shown but not used.
 * - consume: kafka-consumer-perf-test's fetch.nMsg.sec (its run with the group join taken
 *   out) against lagscale's consume() resolved -> Nth record. Java's join (0.3-0.8 s here)
 *   is much slower than ours (tens of ms), so the tools' headline nMsg.sec, which includes
 *   it, would flatter lagscale; the join-free rate is the stricter comparison. Both are shown.
 */
export const RATE_BASIS = {
  produce: 'tool-reported records/sec vs lagscale first record -> last ack (same start point)',
  consume: 'fetch rate, group join excluded: kafka fetch.nMsg.sec vs lagscale consume() resolved -> Nth record'
} as const

export function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function medianOf(measures: Measure[], pick: (m: Measure) => number | undefined): number | undefined {
  const values = measures.map(pick).filter((v): v is number => v !== undefined)
  return values.length === measures.length ? median(values) : undefined
}

function aggregate(measures: Measure[]): Aggregate {
  const result: Aggregate = {
    recordsPerSec: median(measures.map((m) => m.recordsPerSec)),
    mbPerSec: median(measures.map((m) => m.mbPerSec)),
    wallRecordsPerSec: median(measures.map((m) => m.wallRecordsPerSec)),
    clientCpuMs: medianOf(measures, (m) => m.clientCpuMs),
    brokerCpuMs: medianOf(measures, (m) => m.brokerCpuMs),
    rounds: measures.map((m) => Math.round(m.recordsPerSec))
  }
  const inclJoin = medianOf(measures, (m) => m.inclJoinRecordsPerSec)
  if (inclJoin !== undefined) result.inclJoinRecordsPerSec = inclJoin
  const join = medianOf(measures, (m) => m.joinMs)
  if (join !== undefined) result.joinMs = join
  return result
}

export function summarize(rounds: RoundResult[], step: Step): Summary {
  const lagscale = aggregate(rounds.map((r) => r[step].lagscale))
  const kafka = aggregate(rounds.map((r) => r[step].kafka))
  return {
    lagscale,
    kafka,
    ratio: lagscale.recordsPerSec / kafka.recordsPerSec,
    wallRatio: lagscale.wallRecordsPerSec / kafka.wallRecordsPerSec,
    roundRatios: rounds.map((r) => round2(r[step].lagscale.recordsPerSec / r[step].kafka.recordsPerSec))
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100
}

export function renderTable(summaries: Record<Step, Summary>, goal: number): string {
  const header = ['step', 'client', 'records/s', 'MB/s', 'wall rec/s', 'client CPU s', 'broker CPU s', 'per round']
  const rows: string[][] = []
  for (const step of ['produce', 'consume'] as const) {
    for (const client of ['lagscale', 'kafka'] as const) {
      const a = summaries[step][client]
      rows.push([
        step,
        client === 'kafka'
          ? step === 'produce'
            ? 'kafka-producer-perf-test'
            : 'kafka-consumer-perf-test'
          : 'lagscale',
        fmtInt(a.recordsPerSec),
        fmt(a.mbPerSec, 2),
        fmtInt(a.wallRecordsPerSec),
        a.clientCpuMs === undefined ? '-' : fmt(a.clientCpuMs / 1000, 2),
        a.brokerCpuMs === undefined ? '-' : fmt(a.brokerCpuMs / 1000, 2),
        a.rounds.map(fmtInt).join(' / ')
      ])
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)]
  const c = summaries.consume
  out.push(
    '',
    `consume rates above exclude the group join; with it (the tools' headline nMsg.sec): lagscale ${fmtInt(c.lagscale.inclJoinRecordsPerSec ?? Number.NaN)}, kafka ${fmtInt(c.kafka.inclJoinRecordsPerSec ?? Number.NaN)} rec/s; join ${fmtInt(c.lagscale.joinMs ?? Number.NaN)} ms vs ${fmtInt(c.kafka.joinMs ?? Number.NaN)} ms`,
    '',
    `ratio lagscale/kafka  produce ${ratio(summaries.produce.ratio, goal)}   consume ${ratio(summaries.consume.ratio, goal)}   (goal >= ${goal.toFixed(2)}x)`,
    `  per round           produce ${summaries.produce.roundRatios.join(' / ')}   consume ${summaries.consume.roundRatios.join(' / ')}`,
    `  by wall clock       produce ${summaries.produce.wallRatio.toFixed(2)}x   consume ${summaries.consume.wallRatio.toFixed(2)}x   (process start to exit, JVM/Node start-up included)`
  )
  return out.join('\n')
}

function ratio(value: number, goal: number): string {
  return `${value.toFixed(2)}x ${value >= goal ? '(meets goal)' : '(below goal)'}`
}
