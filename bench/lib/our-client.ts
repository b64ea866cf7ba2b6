/**
 * One measured run of lagscale's access layer, in a process of its own (as each
 * Kafka perf tool runs in a fresh JVM), so no run profits from an earlier run's JIT.
 * Usage: node bench/lib/our-client.ts '<WorkerConfig JSON>'
 * Prints JSON lines on stdout: {"event":"progress",...} about every 250 ms, then {"event":"result",...}.
 */
import { randomBytes } from 'node:crypto'
import { createBatchProducer, type RawMessage } from '../../src/kafka/batch-producer.ts'
import {
  CONSUMER_FETCH_DEFAULTS,
  createConsumer,
  createProducer,
  type RawConsumedMessage
} from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { forEachMessage } from '../../src/kafka/message-loop.ts'
import type { ProducerMode } from './options.ts'

export type WorkerRole = 'produce' | 'consume' | 'fetch-only'

export interface WorkerConfig {
  role: WorkerRole
  bootstrap: string
  topic: string
  records: number
  recordSize: number
  producer: ProducerMode
  batchSize: number
  lanes: number
  lingerMs: number
  streamHighWaterMark: number | undefined
}

export interface WorkerProgress {
  event: 'progress'
  records: number
  elapsedMs: number
}

export interface WorkerResult {
  event: 'result'
  records: number
  /** Key + value bytes, as Kafka's perf tools count MB. */
  bytes: number
  /**
   * produce: first record handed over -> last one acknowledged (producer created
   * but not connected yet, as kafka-producer-perf-test starts its clock).
   * consume: consume() called (group join included) -> Nth record received.
   */
  elapsedMs: number
  /** consume only: consume() called -> resolved (group joined, partitions assigned). */
  joinMs?: number
  /** produce only: produce calls made. */
  requests?: number
  /** CPU (user + system) of this process during elapsedMs. */
  cpuMs: number
  /** CPU of the whole process, start-up included (what /usr/bin/time reports for a Java tool). */
  processCpuMs: number
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig
const connection = resolveConnectionConfig({ bootstrapServer: config.bootstrap, clientId: 'lagscale-bench', env: {} })

function emit(event: WorkerProgress | WorkerResult): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

function processCpuMs(): number {
  const usage = process.resourceUsage()
  return (usage.userCPUTime + usage.systemCPUTime) / 1000
}

async function produce(): Promise<WorkerResult> {
  const { topic, records } = config
  // One random payload for every record, as kafka-producer-perf-test --record-size does.
  const value = randomBytes(config.recordSize)
  let acknowledged = 0
  let requests = 0
  // Both ways start the clock with the producers created but not connected, as Kafka's tool does.
  const batcher =
    config.producer === 'batch'
      ? createBatchProducer(connection, {
          batchSize: config.batchSize,
          lanes: config.lanes,
          lingerMs: config.lingerMs,
          onAcknowledged: (count) => {
            acknowledged += count
          }
        })
      : undefined
  const producer = batcher ? undefined : createProducer(connection)
  const started = performance.now()
  const cpu = process.cpuUsage()
  const ticker = setInterval(
    () => emit({ event: 'progress', records: acknowledged, elapsedMs: performance.now() - started }),
    250
  )
  try {
    if (batcher) {
      for (let i = 0; i < records; i++) {
        const message: RawMessage = { topic, value }
        if (!batcher.write(message)) await batcher.ready()
      }
      await batcher.flush()
      requests = batcher.stats.requests
    } else if (producer) {
      // Exactly what src/kafka/console-producer.ts does today.
      const stream = producer.asStream({
        batchSize: 2000,
        batchTime: 5,
        ...(config.streamHighWaterMark === undefined ? {} : { highWaterMark: config.streamHighWaterMark })
      })
      let failure: unknown
      stream.on('error', (err) => {
        failure ??= err
      })
      stream.on('flush', ({ count }: { count: number }) => {
        acknowledged += count
        requests++
      })
      for (let i = 0; i < records && !failure; i++) {
        if (!stream.write({ topic, value })) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              stream.off('drain', done)
              stream.off('close', done)
              resolve()
            }
            stream.once('drain', done)
            stream.once('close', done)
          })
        }
      }
      if (!failure) await stream.close()
      if (failure) throw failure
    }
    const elapsedMs = performance.now() - started
    const cpuMs = cpuSince(cpu)
    if (acknowledged !== records) throw new Error(`acknowledged ${acknowledged} of ${records} records`)
    return {
      event: 'result',
      records: acknowledged,
      bytes: acknowledged * config.recordSize,
      elapsedMs,
      requests,
      cpuMs,
      processCpuMs: processCpuMs()
    }
  } finally {
    clearInterval(ticker)
    await batcher?.close().catch(() => {})
    await producer?.close(true).catch(() => {})
  }
}

async function consume(): Promise<WorkerResult> {
  const { topic, records } = config
  // As src/kafka/console-consumer.ts reads --from-beginning: a throw-away group, no commits.
  const consumer = createConsumer(connection, `lagscale-bench-${randomBytes(4).toString('hex')}`, {
    autocommit: false,
    maxWaitTime: 500
  })
  let count = 0
  let bytes = 0
  const started = performance.now()
  const cpu = process.cpuUsage()
  const ticker = setInterval(
    () => emit({ event: 'progress', records: count, elapsedMs: performance.now() - started }),
    250
  )
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'earliest',
      fallbackMode: 'earliest',
      sessionTimeout: 10_000,
      heartbeatInterval: 1000
    })
    const joinMs = performance.now() - started
    // The same loop as the console consumer (src/kafka/message-loop.ts).
    await forEachMessage<RawConsumedMessage>(stream, (message) => {
      count++
      bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0)
      return count >= records ? 'stop' : undefined
    })
    const elapsedMs = performance.now() - started
    const cpuMs = cpuSince(cpu)
    if (count !== records) throw new Error(`the stream ended after ${count} of ${records} records`)
    return { event: 'result', records: count, bytes, elapsedMs, joinMs, cpuMs, processCpuMs: processCpuMs() }
  } finally {
    clearInterval(ticker)
    await consumer.close(true).catch(() => {})
  }
}

/**
 * Diagnostic (--diagnose): the same records through consumer.fetch() with the same fetch
 * sizes, counted straight from the decoded record batches: no group, no MessagesStream,
 * no per-message objects. The gap to consume() is the cost of the message stream.
 */
async function fetchOnly(): Promise<WorkerResult> {
  const { topic, records } = config
  const consumer = createConsumer(connection, `lagscale-bench-fetch-${randomBytes(4).toString('hex')}`)
  let count = 0
  let bytes = 0
  const started = performance.now()
  const cpu = process.cpuUsage()
  const ticker = setInterval(
    () => emit({ event: 'progress', records: count, elapsedMs: performance.now() - started }),
    250
  )
  try {
    const metadata = await consumer.metadata({ topics: [topic] })
    const info = metadata.topics.get(topic)
    if (!info) throw new Error(`no metadata for ${topic}`)
    const earliest = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? []
    const next = info.partitions.map((_, partition) => earliest[partition] ?? 0n)
    const byLeader = new Map<number, number[]>()
    info.partitions.forEach((p, partition) => {
      byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), partition])
    })
    while (count < records) {
      for (const [node, partitions] of byLeader) {
        const response = await consumer.fetch({
          node,
          maxWaitTime: 500,
          minBytes: 1,
          maxBytes: 50 * 1024 * 1024,
          topics: [
            {
              topicId: info.id,
              partitions: partitions.map((partition) => ({
                partition,
                fetchOffset: next[partition]!,
                partitionMaxBytes: CONSUMER_FETCH_DEFAULTS.maxBytesPerPartition,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1
              }))
            }
          ]
        })
        for (const topicResponse of response.responses) {
          for (const p of topicResponse.partitions) {
            if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode} on partition ${p.partitionIndex}`)
            for (const batch of p.records ?? []) {
              next[p.partitionIndex] = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n
              if (batch.attributes & 0x20) continue // control batch
              for (const record of batch.records) {
                count++
                bytes += (record.value?.length ?? 0) + (record.key?.length ?? 0)
              }
            }
          }
        }
      }
    }
    const elapsedMs = performance.now() - started
    const cpuMs = cpuSince(cpu)
    if (count !== records) throw new Error(`read ${count} records, expected ${records}`)
    return { event: 'result', records: count, bytes, elapsedMs, cpuMs, processCpuMs: processCpuMs() }
  } finally {
    clearInterval(ticker)
    await consumer.close(true).catch(() => {})
  }
}

const ROLES: Record<WorkerRole, () => Promise<WorkerResult>> = { produce, consume, 'fetch-only': fetchOnly }

try {
  emit(await ROLES[config.role]())
  process.exit(0)
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
}
