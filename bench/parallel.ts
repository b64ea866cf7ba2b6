/**
 * npm run bench:parallel: in-partition parallel processing. One partition, 1,000 records of
 * 5 ms of work each, a worker with --concurrency 1 / 8 / 64 (--ordering unordered; 1 is the
 * classic worker). For each: drain time, records/s, and the ratio to the ideal
 * (total work / concurrency), measured in the same run. Goal: >= 0.8x of ideal at 8 and 64.
 *
 *   npm run bench:parallel [-- --records 1000 --work-ms 5 --concurrency 1,8,64]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { lagscaleHome } from '../src/broker/paths.ts'
import { startThrowawayBroker } from '../src/broker/throwaway-broker.ts'
import { createWorker } from '../src/consumer/worker.ts'
import { createAdmin, createProducer } from '../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../src/kafka/connection-config.ts'
import { createTopic } from '../src/kafka/topics.ts'
import { createLogger } from '../src/log.ts'
import { describeCode, describeMachine } from './lib/machine.ts'
import { log } from './lib/progress.ts'

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000' },
    'work-ms': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '1,8,64' },
    help: { type: 'boolean', default: false }
  }
})
if (args.help) {
  process.stdout.write('npm run bench:parallel [-- --records 1000 --work-ms 5 --concurrency 1,8,64]\n')
  process.exit(0)
}
const records = Number(args.records)
const workMs = Number(args['work-ms'])
const levels = args.concurrency.split(',').map(Number)
if (![records, workMs, ...levels].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write('bench:parallel: --records, --work-ms and --concurrency take positive integers\n')
  process.exit(2)
}

interface Result {
  concurrency: number
  drainMs: number
  recordsPerSecond: number
  /** Sum of the handler's measured durations. */
  workMs: number
  idealMs: number
  ratio: number
  maxInFlight: number
}

const bench = await startThrowawayBroker(lagscaleHome(), {
  heapMb: 512,
  tempPrefix: 'lagscale-bench-',
  onProgress: (m) => log(m)
})
const stop = async (): Promise<void> => {
  await bench.stop()
}
process.once('SIGINT', () => void stop().then(() => process.exit(130)))
try {
  const connection = resolveConnectionConfig({ bootstrapServer: bench.broker.bootstrap, env: {} })
  const quiet = createLogger({ name: 'bench-parallel', level: 'warn' })
  const results: Result[] = []
  for (const concurrency of levels) {
    const topic = `parallel-${concurrency}-${Date.now()}`
    const admin = createAdmin(connection)
    await createTopic(admin, { topic, partitions: 1, replicationFactor: 1 })
    await admin.close()
    const producer = createProducer(connection)
    await producer.send({
      messages: Array.from({ length: records }, () => ({ topic, partition: 0, value: Buffer.from('1') }))
    })
    await producer.close()

    let done = 0
    let inFlight = 0
    let maxInFlight = 0
    let work = 0
    let first = Number.POSITIVE_INFINITY
    let last = 0
    const worker = createWorker({
      connection,
      topic,
      group: topic,
      port: 0,
      host: '127.0.0.1',
      concurrency,
      ordering: 'unordered',
      logger: quiet,
      handle: async () => {
        const started = performance.now()
        first = Math.min(first, started)
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await sleep(workMs)
        inFlight--
        const ended = performance.now()
        work += ended - started
        last = Math.max(last, ended)
      }
    })
    worker.on('processed', () => {
      done++
    })
    log(`concurrency ${concurrency}: ${records} records of ${workMs} ms on 1 partition...`)
    await worker.start()
    while (done < records) await sleep(50)
    await worker.stop('bench over')
    const drainMs = last - first
    const idealMs = work / concurrency
    const result: Result = {
      concurrency,
      drainMs: Math.round(drainMs),
      recordsPerSecond: Math.round((records / drainMs) * 1000),
      workMs: Math.round(work),
      idealMs: Math.round(idealMs),
      ratio: Number((idealMs / drainMs).toFixed(2)),
      maxInFlight
    }
    results.push(result)
    log(
      `  drained in ${result.drainMs} ms (${result.recordsPerSecond} records/s); ideal ${result.idealMs} ms; ` +
        `ratio ${result.ratio}x; at most ${maxInFlight} at once`
    )
  }

  const rows = results.map(
    (r) => `| ${r.concurrency} | ${r.drainMs} | ${r.recordsPerSecond} | ${r.idealMs} | ${r.ratio}x | ${r.maxInFlight} |`
  )
  process.stdout.write(
    [
      '',
      `bench:parallel - 1 partition, ${records} records x ${workMs} ms, --ordering unordered`,
      '| concurrency | drain ms | records/s | ideal ms (work / concurrency) | ratio to ideal | max in flight |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
      ''
    ].join('\n')
  )
  const base = results.find((r) => r.concurrency === 1)
  if (base) {
    for (const r of results) {
      if (r.concurrency === 1) continue
      process.stdout.write(
        `speed-up at ${r.concurrency}: ${(base.drainMs / r.drainMs).toFixed(1)}x over concurrency 1\n`
      )
    }
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  const file = new URL(`./results/parallel-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url)
  writeFileSync(
    file,
    `${JSON.stringify({ records, workMs, results, machine: describeMachine(), code: describeCode() }, null, 2)}\n`
  )
  log(`results: ${file.pathname}`)
} finally {
  await stop()
}
