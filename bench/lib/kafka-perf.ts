import { kafkaToolCommand } from '../../src/broker/kafka-tools.ts'
import { runProcess } from './processes.ts'

export interface ProducerPerfResult {
  records: number
  /** The tool's own summary: first send -> all acknowledged (its producer.close()). */
  recordsPerSec: number
  mbPerSec: number
  avgLatencyMs: number
  maxLatencyMs: number
  p99LatencyMs: number
  wallMs: number
  cpuMs: number | undefined
  summary: string
}

export interface ConsumerPerfResult {
  records: number
  mb: number
  /** The tool's headline: subscribe -> last record, group join included. */
  recordsPerSec: number
  mbPerSec: number
  joinMs: number
  fetchMs: number
  /** The tool's fetch.* columns: the same, with the group join taken out. */
  fetchRecordsPerSec: number
  fetchMbPerSec: number
  wallMs: number
  cpuMs: number | undefined
  summary: string
}

export interface PerfRunOptions {
  home: string
  bootstrap: string
  topic: string
  records: number
  timeoutMs: number
  onProgress: (line: string) => void
}

// 1000000 records sent, 221827.9 records/sec (21.16 MB/sec), 365.78 ms avg latency, 811.00 ms max latency, 296 ms 50th, 745 ms 95th, 777 ms 99th, 795 ms 99.9th.
const PRODUCER_TOTAL =
  /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, \d+ ms 50th, \d+ ms 95th, (\d+) ms 99th/
// 293041 records sent, 57425.2 records/sec (5.48 MB/sec), 788.5 ms avg latency, 1197.0 ms max latency.
const PRODUCER_WINDOW = /^(\d+) records sent, ([\d.]+) records\/sec/

/** kafka-producer-perf-test with lagscale's durability settings: acks=all, idempotent. */
export async function producerPerfTest(options: PerfRunOptions & { recordSize: number }): Promise<ProducerPerfResult> {
  const { command, args } = kafkaToolCommand(options.home, 'kafka-producer-perf-test', [
    '--topic',
    options.topic,
    '--num-records',
    String(options.records),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${options.bootstrap}`,
    'acks=all',
    'enable.idempotence=true'
  ])
  // Its interim lines (every 5 s) cover one window each; add them up for a running total.
  let sent = 0
  const result = await runProcess(command, args, {
    name: 'kafka-producer-perf-test',
    timeoutMs: options.timeoutMs,
    measureCpu: true,
    onLine: (line) => {
      if (PRODUCER_TOTAL.test(line)) return
      const window = PRODUCER_WINDOW.exec(line)
      if (window) {
        sent += Number(window[1])
        options.onProgress(
          `~${sent.toLocaleString('en-US')} sent; last 5 s window ${Math.round(Number(window[2])).toLocaleString('en-US')} rec/s`
        )
      }
    }
  })
  const lines = result.stdout.split('\n')
  const summary = lines.find((line) => PRODUCER_TOTAL.test(line))
  const match = summary ? PRODUCER_TOTAL.exec(summary) : null
  if (result.code !== 0 || !summary || !match) {
    throw new Error(`kafka-producer-perf-test failed (exit ${result.code ?? result.signal}):\n${tail(result)}`)
  }
  const records = Number(match[1])
  if (records !== options.records) throw new Error(`kafka-producer-perf-test sent ${records} of ${options.records}`)
  return {
    records,
    recordsPerSec: Number(match[2]),
    mbPerSec: Number(match[3]),
    avgLatencyMs: Number(match[4]),
    maxLatencyMs: Number(match[5]),
    p99LatencyMs: Number(match[6]),
    wallMs: result.wallMs,
    cpuMs: result.cpuMs,
    summary: summary.trim()
  }
}

/**
 * kafka-consumer-perf-test (Kafka 4.1 flags): a fresh group reading from the earliest
 * offset. Without --show-detailed-stats it prints one summary line at the end:
 * start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
 * rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
 */
export async function consumerPerfTest(options: PerfRunOptions): Promise<ConsumerPerfResult> {
  const { command, args } = kafkaToolCommand(options.home, 'kafka-consumer-perf-test', [
    '--bootstrap-server',
    options.bootstrap,
    '--topic',
    options.topic,
    '--messages',
    String(options.records),
    // Longest gap between records before it gives up (default 10 s); our limit is the step timeout.
    '--timeout',
    '60000'
  ])
  const result = await runProcess(command, args, {
    name: 'kafka-consumer-perf-test',
    timeoutMs: options.timeoutMs,
    measureCpu: true
  })
  const lines = result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const headerIndex = lines.findIndex((line) => line.startsWith('start.time'))
  const header = headerIndex >= 0 ? lines[headerIndex]!.split(/,\s*/) : []
  const values = headerIndex >= 0 ? (lines[headerIndex + 1] ?? '').split(/,\s*/) : []
  const column = (name: string): number => {
    const i = header.indexOf(name)
    return i >= 0 && values[i] !== undefined ? Number(values[i]) : Number.NaN
  }
  const parsed: ConsumerPerfResult = {
    records: column('data.consumed.in.nMsg'),
    mb: column('data.consumed.in.MB'),
    recordsPerSec: column('nMsg.sec'),
    mbPerSec: column('MB.sec'),
    joinMs: column('rebalance.time.ms'),
    fetchMs: column('fetch.time.ms'),
    fetchRecordsPerSec: column('fetch.nMsg.sec'),
    fetchMbPerSec: column('fetch.MB.sec'),
    wallMs: result.wallMs,
    cpuMs: result.cpuMs,
    summary: lines.slice(headerIndex, headerIndex + 2).join('\n')
  }
  if (result.code !== 0 || headerIndex < 0 || Number.isNaN(parsed.records) || Number.isNaN(parsed.fetchRecordsPerSec)) {
    throw new Error(`kafka-consumer-perf-test failed (exit ${result.code ?? result.signal}):\n${tail(result)}`)
  }
  if (parsed.records !== options.records) {
    throw new Error(`kafka-consumer-perf-test read ${parsed.records} of ${options.records} records:\n${tail(result)}`)
  }
  return parsed
}

function tail(result: { stdout: string; stderr: string }): string {
  return `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n')
}
