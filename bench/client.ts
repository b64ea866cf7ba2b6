/**
 * `npm run bench:client`: lagscale's Kafka access layer (src/kafka/clients.ts) against
 * Kafka's own kafka-producer-perf-test and kafka-consumer-perf-test, on a broker this
 * script starts for itself and always stops. See docs/benchmarks.md.
 *
 * Per round, on fresh topics with the same partition count:
 *   produce: lagscale -> topic A, kafka-producer-perf-test -> topic B (acks=all, idempotent)
 *   consume: lagscale and kafka-consumer-perf-test each read all of topic B from the start
 * Everything runs one after the other (the machine has 2 cores, the broker needs one),
 * each client in a process of its own, and the order flips every round.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Admin } from '@platformatic/kafka'
import { KAFKA_VERSION, lagscaleHome } from '../src/broker/paths.ts'
import { startThrowawayBroker, type ThrowawayBroker } from '../src/broker/throwaway-broker.ts'
import { CONSUMER_FETCH_DEFAULTS, createAdmin } from '../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../src/kafka/connection-config.ts'
import { logEndOffsets } from '../src/kafka/groups.ts'
import { createTopic } from '../src/kafka/topics.ts'
import { consumerPerfTest, producerPerfTest } from './lib/kafka-perf.ts'
import { describeCode, describeMachine } from './lib/machine.ts'
import { type BenchOptions, parseBenchOptions, usage } from './lib/options.ts'
import type { WorkerConfig, WorkerProgress, WorkerResult, WorkerRole } from './lib/our-client.ts'
import { killChildren, processCpuMs, runProcess } from './lib/processes.ts'
import { fmtInt, log, rateLine, Ticker } from './lib/progress.ts'
import {
  type Client,
  type Measure,
  median,
  RATE_BASIS,
  type RoundResult,
  renderTable,
  type Step,
  type Summary,
  summarize
} from './lib/report.ts'

const GOAL = 0.9
const MIB = 1024 * 1024
const WORKER = fileURLToPath(new URL('./lib/our-client.ts', import.meta.url))

interface Context {
  options: BenchOptions
  home: string
  bootstrap: string
  brokerPid: number
  admin: Admin
}

async function main(): Promise<number> {
  let parsed: BenchOptions | 'help'
  try {
    parsed = parseBenchOptions(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage()}\n`)
    return 2
  }
  if (parsed === 'help') {
    log(usage())
    return 0
  }
  const options = parsed
  const home = lagscaleHome()
  const startedAt = new Date()
  const machine = describeMachine()
  log(
    `lagscale client benchmark: ${fmtInt(options.records)} records x ${options.recordSize} B, ${options.partitions} partitions, ${options.rounds} round(s)`
  )
  log(
    `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB RAM, load average ${machine.loadAverageStart.join(' ')}`
  )
  log(`producer: ${describeProducer(options)}`)

  let bench: ThrowawayBroker | undefined
  let admin: Admin | undefined
  // First Ctrl-C: end the running client, then stop the broker cleanly. Second: kill the broker, exit.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (run.interrupted) {
      if (bench) {
        try {
          process.kill(bench.broker.pid, 'SIGKILL')
        } catch {}
      }
      process.exit(130)
    }
    run.interrupted = true
    log(`\n${signal}: stopping the clients and the broker (again to force)...`)
    killChildren()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  let failed = false
  try {
    log('starting a Kafka broker of our own...')
    const brokerStarted = performance.now()
    bench = await startThrowawayBroker(home, {
      heapMb: options.brokerHeapMb,
      tempPrefix: 'lagscale-bench-',
      onProgress: (m) => log(`  ${m}`)
    })
    checkpoint()
    const { broker } = bench
    log(
      `Kafka ${broker.kafkaVersion} at ${broker.bootstrap} (pid ${broker.pid}, heap ${options.brokerHeapMb} MB) in ${((performance.now() - brokerStarted) / 1000).toFixed(1)} s`
    )
    admin = createAdmin(
      resolveConnectionConfig({ bootstrapServer: broker.bootstrap, clientId: 'lagscale-bench', env: {} })
    )
    const ctx: Context = { options, home, bootstrap: broker.bootstrap, brokerPid: broker.pid, admin }

    if (options.warmupRecords > 0) await warmUp(ctx)

    const rounds: RoundResult[] = []
    for (let round = 1; round <= options.rounds; round++) rounds.push(await runRound(ctx, round))

    const summaries: Record<Step, Summary> = {
      produce: summarize(rounds, 'produce'),
      consume: summarize(rounds, 'consume')
    }
    log('')
    log(
      `Results: ${fmtInt(options.records)} records x ${options.recordSize} B, ${options.partitions} partitions, median of ${options.rounds} round(s); MB = 2^20 bytes of payload`
    )
    log(renderTable(summaries, GOAL))
    const fetchOnly = rounds.flatMap((r) => (r.fetchOnly ? [r.fetchOnly.recordsPerSec] : []))
    if (fetchOnly.length > 0) {
      log(
        `diagnostic: consumer.fetch() alone (same fetch sizes, no group, no message stream) ${fmtInt(median(fetchOnly))} rec/s = ${(median(fetchOnly) / summaries.consume.kafka.recordsPerSec).toFixed(2)}x kafka`
      )
    }

    const finishedAt = new Date()
    const file = join(options.outDir, `client-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
    mkdirSync(options.outDir, { recursive: true })
    const output = {
      benchmark: 'client',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      options,
      producer: describeProducer(options),
      consumerDefaults: CONSUMER_FETCH_DEFAULTS,
      code: describeCode(),
      machine: { ...machine, loadAverageEnd: loadavg().map((l) => Number(l.toFixed(2))) },
      broker: { kafkaVersion: KAFKA_VERSION, heapMb: options.brokerHeapMb, bootstrap: broker.bootstrap },
      rateBasis: RATE_BASIS,
      goal: GOAL,
      summary: summaries,
      rounds
    }
    writeFileSync(file, `${JSON.stringify(output, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`)
    log(`\nresults written to ${file}`)
  } catch (err) {
    failed = true
    if (!run.interrupted) process.stderr.write(`\nbenchmark failed: ${(err as Error).stack ?? String(err)}\n`)
    killChildren()
  } finally {
    await admin?.close().catch(() => {})
    if (bench) {
      const keepLog = failed && !run.interrupted
      log(keepLog ? `stopping the broker (log kept: ${bench.broker.logFile})` : 'stopping the broker...')
      await bench.stop(keepLog)
    }
  }
  return run.interrupted ? 130 : failed ? 1 : 0
}

const run = { interrupted: false }

/** Between steps: stop here once Ctrl-C was pressed. */
function checkpoint(): void {
  if (run.interrupted) throw new Error('interrupted')
}

async function warmUp(ctx: Context): Promise<void> {
  const n = ctx.options.warmupRecords
  log(`\nwarm-up (not measured): ${fmtInt(n)} records through each client, so the broker's JIT is warm for round 1`)
  const ours = await freshTopic(ctx, 'bench-warmup-lagscale')
  const theirs = await freshTopic(ctx, 'bench-warmup-kafka')
  await measureOurs(ctx, 'produce', ours, n, '[warm-up produce lagscale]')
  await measureKafka(ctx, 'produce', theirs, n, '[warm-up produce kafka]')
  await measureOurs(ctx, 'consume', theirs, n, '[warm-up consume lagscale]')
  await measureKafka(ctx, 'consume', ours, n, '[warm-up consume kafka]')
}

async function runRound(ctx: Context, round: number): Promise<RoundResult> {
  const { records } = ctx.options
  // Odd rounds run lagscale first, even rounds Kafka's tool first.
  const order: Client[] = round % 2 === 1 ? ['lagscale', 'kafka'] : ['kafka', 'lagscale']
  log(`\nround ${round}/${ctx.options.rounds} (${order.join(' first, then ')})`)
  const topics: Record<Client, string> = {
    lagscale: await freshTopic(ctx, `bench-r${round}-produced-by-lagscale`),
    kafka: await freshTopic(ctx, `bench-r${round}-produced-by-kafka`)
  }
  const produce = {} as Record<Client, Measure>
  for (const client of order) {
    const label = `[r${round} produce ${client}]`
    produce[client] =
      client === 'lagscale'
        ? await measureOurs(ctx, 'produce', topics.lagscale, records, label)
        : await measureKafka(ctx, 'produce', topics.kafka, records, label)
    await verifyTopicHolds(ctx, topics[client], records)
  }
  // Both consumers read the same records: the topic Kafka's own producer wrote.
  const consume = {} as Record<Client, Measure>
  for (const client of order) {
    const label = `[r${round} consume ${client}]`
    consume[client] =
      client === 'lagscale'
        ? await measureOurs(ctx, 'consume', topics.kafka, records, label)
        : await measureKafka(ctx, 'consume', topics.kafka, records, label)
  }
  const result: RoundResult = { round, order, produce, consume }
  if (ctx.options.diagnose) {
    result.fetchOnly = await measureOurs(ctx, 'fetch-only', topics.kafka, records, `[r${round} diagnose fetch-only]`)
  }
  return result
}

async function measureOurs(
  ctx: Context,
  role: WorkerRole,
  topic: string,
  records: number,
  label: string
): Promise<Measure> {
  const { options } = ctx
  const config: WorkerConfig = {
    role,
    bootstrap: ctx.bootstrap,
    topic,
    records,
    recordSize: options.recordSize,
    producer: options.producer,
    batchSize: options.batchSize,
    lanes: options.lanes,
    lingerMs: options.lingerMs,
    streamHighWaterMark: options.streamHighWaterMark
  }
  checkpoint()
  const ticker = new Ticker(label)
  let result: WorkerResult | undefined
  const brokerCpu = processCpuMs(ctx.brokerPid)
  try {
    const run = await runProcess(process.execPath, [...options.workerNodeFlags, WORKER, JSON.stringify(config)], {
      name: label,
      timeoutMs: options.timeoutMs,
      onLine: (line) => {
        let event: WorkerProgress | WorkerResult
        try {
          event = JSON.parse(line) as WorkerProgress | WorkerResult
        } catch {
          return
        }
        if (event.event === 'progress') ticker.set(rateLine(event.records, event.elapsedMs, records))
        else result = event
      }
    })
    if (run.code !== 0 || !result) {
      throw new Error(
        `${label} failed (exit ${run.code ?? run.signal}):\n${run.stderr.trim().split('\n').slice(-15).join('\n')}`
      )
    }
    const brokerCpuMs = cpuDelta(brokerCpu, processCpuMs(ctx.brokerPid))
    const measured = result
    // produce: first record -> last ack; consume: group joined -> Nth record (join reported apart).
    const rateMs = role === 'consume' ? measured.elapsedMs - (measured.joinMs ?? 0) : measured.elapsedMs
    const recordsPerSec = (records * 1000) / rateMs
    const measure: Measure = {
      client: 'lagscale',
      topic,
      recordsPerSec,
      mbPerSec: (measured.bytes / MIB) * (1000 / rateMs),
      wallMs: run.wallMs,
      wallRecordsPerSec: (records * 1000) / run.wallMs,
      clientCpuMs: measured.processCpuMs,
      brokerCpuMs,
      raw: measured
    }
    if (role === 'consume') {
      measure.inclJoinRecordsPerSec = (records * 1000) / measured.elapsedMs
      measure.joinMs = measured.joinMs ?? 0
    }
    ticker.stop(
      `done: ${rateLine(records, rateMs)}${role === 'consume' ? ` after a ${fmtInt(measure.joinMs ?? 0)} ms group join` : ''}; wall ${(run.wallMs / 1000).toFixed(2)} s`
    )
    return measure
  } finally {
    ticker.stop()
  }
}

async function measureKafka(ctx: Context, step: Step, topic: string, records: number, label: string): Promise<Measure> {
  checkpoint()
  const ticker = new Ticker(label)
  const brokerCpu = processCpuMs(ctx.brokerPid)
  const common = {
    home: ctx.home,
    bootstrap: ctx.bootstrap,
    topic,
    records,
    timeoutMs: ctx.options.timeoutMs,
    onProgress: (status: string) => ticker.set(status)
  }
  try {
    if (step === 'produce') {
      ticker.set('starting the JVM; kafka-producer-perf-test reports every 5 s')
      const r = await producerPerfTest({ ...common, recordSize: ctx.options.recordSize })
      const brokerCpuMs = cpuDelta(brokerCpu, processCpuMs(ctx.brokerPid))
      ticker.stop(`done: ${r.summary}; wall ${(r.wallMs / 1000).toFixed(2)} s`)
      return {
        client: 'kafka',
        topic,
        recordsPerSec: r.recordsPerSec,
        mbPerSec: r.mbPerSec,
        wallMs: r.wallMs,
        wallRecordsPerSec: (records * 1000) / r.wallMs,
        clientCpuMs: r.cpuMs,
        brokerCpuMs,
        raw: r
      }
    }
    ticker.set('running; kafka-consumer-perf-test prints its rate when done')
    const r = await consumerPerfTest(common)
    const brokerCpuMs = cpuDelta(brokerCpu, processCpuMs(ctx.brokerPid))
    ticker.stop(
      `done: ${fmtInt(r.records)} records, ${fmtInt(r.fetchRecordsPerSec)} rec/s after a ${fmtInt(r.joinMs)} ms group join (${fmtInt(r.recordsPerSec)} rec/s with it); wall ${(r.wallMs / 1000).toFixed(2)} s`
    )
    return {
      client: 'kafka',
      topic,
      recordsPerSec: r.fetchRecordsPerSec,
      mbPerSec: r.fetchMbPerSec,
      inclJoinRecordsPerSec: r.recordsPerSec,
      joinMs: r.joinMs,
      wallMs: r.wallMs,
      wallRecordsPerSec: (records * 1000) / r.wallMs,
      clientCpuMs: r.cpuMs,
      brokerCpuMs,
      raw: r
    }
  } finally {
    ticker.stop()
  }
}

async function freshTopic(ctx: Context, name: string): Promise<string> {
  await createTopic(ctx.admin, { topic: name, partitions: ctx.options.partitions, replicationFactor: 1 })
  return name
}

/** A produce run counts only if the topic then holds exactly the records sent: none lost, none doubled. */
async function verifyTopicHolds(ctx: Context, topic: string, records: number): Promise<void> {
  const partitions = Array.from({ length: ctx.options.partitions }, (_, i) => i)
  const ends = await logEndOffsets(ctx.admin, new Map([[topic, partitions]]))
  let total = 0n
  for (const end of ends.values()) total += end
  if (total !== BigInt(records)) throw new Error(`topic ${topic} holds ${total} records after producing ${records}`)
}

function cpuDelta(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after - before
}

function describeProducer(options: BenchOptions): string {
  return options.producer === 'batch'
    ? `createBatchProducer (src/kafka/batch-producer.ts): ${options.lanes} lane(s) = ${options.lanes} idempotent producer(s) from createProducer, batchSize ${options.batchSize}, linger ${options.lingerMs} ms; acks=all`
    : `producer.asStream({ batchSize: 2000, batchTime: 5${options.streamHighWaterMark === undefined ? '' : `, highWaterMark: ${options.streamHighWaterMark}`} }) as console-producer.ts; acks=all, idempotent`
}

process.exit(await main())
