import { parseArgs } from 'node:util'
import { int } from './int-flag.ts'

export type ProducerMode = 'batch' | 'stream'

export interface BenchOptions {
  records: number
  recordSize: number
  partitions: number
  rounds: number
  /** Records per warm-up phase (not measured); 0 skips the warm-up. */
  warmupRecords: number
  producer: ProducerMode
  /** createBatchProducer: records per request, lanes (producers, connections), linger. */
  batchSize: number
  lanes: number
  lingerMs: number
  /** Producer stream only: its writable highWaterMark (the CLI leaves Node's default, 16). */
  streamHighWaterMark: number | undefined
  /** Per measured step (one client run); scales with --records by default. */
  timeoutMs: number
  brokerHeapMb: number
  outDir: string
  /** Also time consumer.fetch() without the message stream, to show where consume time goes. */
  diagnose: boolean
  /** Extra Node flags for lagscale's client processes, e.g. --max-semi-space-size=32. */
  workerNodeFlags: string[]
}

const USAGE = `Usage: npm run bench:client -- [options]

Starts its own Kafka broker and compares lagscale's access layer with Kafka's perf tools.

  --records N          records per measurement (env BENCH_RECORDS, default 1000000)
  --quick              shorthand for --records 100000 --rounds 1 --warmup 20000
  --record-size B      value size in bytes (default 100)
  --partitions P       partitions of every benchmark topic (default 6)
  --rounds R           measurement rounds; order alternates per round (env BENCH_ROUNDS, default 3)
  --warmup N           records per broker warm-up step, not measured (default min(records, 1000000); 0 = none)
  --producer MODE      batch (createBatchProducer, default) or stream (producer.asStream as the CLI sets it up)
  --batch-size N       batch: records per produce request (default 1000)
  --lanes N            batch: lanes, each an idempotent producer with its own connection (default 2)
  --linger-ms MS       batch: linger (default 5)
  --stream-hwm N       with --producer stream: the stream's highWaterMark (default: Node's, as the CLI)
  --timeout-s S        limit for each measured step (default 120 + records/5000)
  --broker-heap-mb MB  broker heap (default 1024)
  --out DIR            where results JSON goes (default bench/results)
  --diagnose           also read each round's topic with consumer.fetch() alone (no message stream)
  --node-flags=FLAGS   extra Node flags for lagscale's client processes, e.g. --node-flags="--max-semi-space-size=32"
  -h, --help           this text`

export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      records: { type: 'string' },
      quick: { type: 'boolean' },
      'record-size': { type: 'string' },
      partitions: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      producer: { type: 'string' },
      'batch-size': { type: 'string' },
      lanes: { type: 'string' },
      'linger-ms': { type: 'string' },
      'stream-hwm': { type: 'string' },
      'timeout-s': { type: 'string' },
      'broker-heap-mb': { type: 'string' },
      out: { type: 'string' },
      diagnose: { type: 'boolean' },
      'node-flags': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) return 'help'
  const quick = values.quick === true
  const records = int('--records', values.records ?? env['BENCH_RECORDS'], quick ? 100_000 : 1_000_000)
  const producer = values.producer ?? 'batch'
  if (producer !== 'batch' && producer !== 'stream')
    throw new Error(`--producer must be batch or stream; got ${producer}`)
  const warmupDefault = quick ? Math.min(records, 20_000) : Math.min(records, 1_000_000)
  return {
    records,
    recordSize: int('--record-size', values['record-size'], 100),
    partitions: int('--partitions', values.partitions, 6),
    rounds: int('--rounds', values.rounds ?? env['BENCH_ROUNDS'], quick ? 1 : 3),
    warmupRecords: int('--warmup', values.warmup, warmupDefault, 0),
    producer,
    batchSize: int('--batch-size', values['batch-size'], 1000),
    lanes: int('--lanes', values.lanes, 2),
    lingerMs: int('--linger-ms', values['linger-ms'], 5, 0),
    streamHighWaterMark: values['stream-hwm'] === undefined ? undefined : int('--stream-hwm', values['stream-hwm'], 16),
    timeoutMs: 1000 * int('--timeout-s', values['timeout-s'], 120 + Math.ceil(records / 5000)),
    brokerHeapMb: int('--broker-heap-mb', values['broker-heap-mb'], 1024),
    outDir: values.out ?? 'bench/results',
    diagnose: values.diagnose === true,
    workerNodeFlags: (values['node-flags'] ?? '').split(/\s+/).filter(Boolean)
  }
}

export function usage(): string {
  return USAGE
}
