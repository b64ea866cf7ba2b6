/**
 * The raw side of `npm run bench:http`: the producer app's Kafka work without HTTP.
 * One long-lived producer from createProducer (acks=all, idempotent), as the app's
 * producerSink; `concurrency` loops, each building `recordsPerCall` records the way
 * SendService does (a random 0..10 as a decimal string, partitions round robin) and
 * awaiting `producer.send()` for them, then the next call.
 * Usage: node bench/lib/raw-sender.ts '<RawSenderConfig JSON>'
 * Prints JSON lines on stdout: {"event":"progress",...} about every 250 ms, then {"event":"result",...}.
 */
import { randomInt } from 'node:crypto'
import type { RawMessage } from '../../src/kafka/batch-producer.ts'
import { createProducer } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'

export interface RawSenderConfig {
  bootstrap: string
  topic: string
  recordsPerCall: number
  concurrency: number
  warmupMs: number
  durationMs: number
}

export interface RawSenderProgress {
  event: 'progress'
  phase: 'warm-up' | 'measure'
  calls: number
  elapsedMs: number
}

export interface RawSenderResult {
  event: 'result'
  /** Calls (awaited sends) that completed inside the measured window. */
  calls: number
  records: number
  elapsedMs: number
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number }
  /** CPU (user + system) of this process during the measured window. */
  cpuMs: number
  /** Every record acknowledged, warm-up and calls finishing after the window included (to check the topic). */
  totalRecords: number
}

const config = JSON.parse(process.argv[2] ?? '{}') as RawSenderConfig
const connection = resolveConnectionConfig({ bootstrapServer: config.bootstrap, clientId: 'lagscale-bench', env: {} })

function emit(event: RawSenderProgress | RawSenderResult): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

async function run(): Promise<RawSenderResult> {
  const { topic, recordsPerCall, concurrency } = config
  const producer = createProducer(connection)
  try {
    const metadata = await producer.metadata({ topics: [topic] })
    const partitions = metadata.topics.get(topic)?.partitionsCount
    if (!partitions) throw new Error(`no metadata for ${topic}`)
    let nextPartition = randomInt(0, 1 << 30)
    let phase: 'warm-up' | 'measure' | 'done' = 'warm-up'
    let windowStart = performance.now()
    let windowEnd = 0
    let cpu = process.cpuUsage()
    let cpuMs = 0
    let calls = 0
    let warmupCalls = 0
    let totalRecords = 0
    let latencies = new Float64Array(1 << 16)

    const ticker = setInterval(() => {
      if (phase !== 'done') {
        emit({
          event: 'progress',
          phase,
          calls: phase === 'warm-up' ? warmupCalls : calls,
          elapsedMs: performance.now() - windowStart
        })
      }
    }, 250)
    const measure = setTimeout(() => {
      phase = 'measure'
      calls = 0
      warmupCalls = 0
      windowStart = performance.now()
      cpu = process.cpuUsage()
    }, config.warmupMs)
    const stop = setTimeout(() => {
      phase = 'done'
      windowEnd = performance.now()
      const used = process.cpuUsage(cpu)
      cpuMs = (used.user + used.system) / 1000
    }, config.warmupMs + config.durationMs)

    const loop = async (): Promise<void> => {
      while (phase !== 'done') {
        const messages: RawMessage[] = []
        for (let i = 0; i < recordsPerCall; i++) {
          const partition = nextPartition++ % partitions
          nextPartition %= 1 << 30
          messages.push({ topic, partition, value: Buffer.from(String(randomInt(0, 11))) })
        }
        const started = performance.now()
        const callPhase = phase
        await producer.send({ messages })
        totalRecords += recordsPerCall
        if (phase === 'warm-up') warmupCalls++
        // A call counts if it started and finished inside the measured window.
        if (callPhase === 'measure' && phase === 'measure') {
          if (calls === latencies.length) {
            const grown = new Float64Array(latencies.length * 2)
            grown.set(latencies)
            latencies = grown
          }
          latencies[calls++] = performance.now() - started
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: concurrency }, loop))
    } finally {
      clearInterval(ticker)
      clearTimeout(measure)
      clearTimeout(stop)
    }
    const sorted = latencies.slice(0, calls).sort()
    let sum = 0
    for (const l of sorted) sum += l
    return {
      event: 'result',
      calls,
      records: calls * recordsPerCall,
      elapsedMs: windowEnd - windowStart,
      latencyMs: {
        mean: sum / calls,
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? Number.NaN
      },
      cpuMs,
      totalRecords
    }
  } finally {
    await producer.close().catch(() => {})
  }
}

try {
  emit(await run())
  process.exit(0)
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
}
