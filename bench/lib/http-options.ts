import { parseArgs } from 'node:util'
import { int } from './int-flag.ts'

export interface HttpBenchOptions {
  /** Records per request (`message=N`), one measurement each. */
  sizes: number[]
  /** HTTP connections (autocannon) = concurrent loops of the raw sender. */
  connections: number
  durationMs: number
  warmupMs: number
  /** Before any measurement: this long of each size through each path (broker JIT, fresh log segments). */
  initialWarmupMs: number
  partitions: number
  /** The producer app's LOG_LEVEL (info, as deployed, logs four lines a request). */
  logLevel: string
  /** Extra Node flags for the producer app's process, e.g. --cpu-prof. */
  serverNodeFlags: string[]
  brokerHeapMb: number
  outDir: string
}

const USAGE = `Usage: npm run bench:http -- [options]

Starts its own Kafka broker and the producer app (\`lagscale producer\`, a process of its
own), loads POST /msk-producer-send with autocannon, and compares the records/s with
raw sends of the same records through the same kind of producer (no HTTP).

  --sizes N,N,...         records per request (message=N), one measurement each (default 1,100)
  --connections C         HTTP connections; also the raw sender's concurrent loops (default 10)
  --duration-s S          measured seconds per size and path (default 10)
  --warmup-s S            unmeasured seconds before each measurement (default 3)
  --initial-warmup-s S    first, unmeasured: S seconds of each size through each path (default 5; 0 = none)
  --quick                 --duration-s 3 --warmup-s 1 --initial-warmup-s 1: checks that the benchmark works
  --partitions P          partitions of the benchmark topics (default 6)
  --log-level LEVEL       the app's LOG_LEVEL (default info, as deployed; its log goes to a temp file)
  --server-node-flags=F   extra Node flags for the app's process, e.g. --server-node-flags="--cpu-prof"
  --broker-heap-mb MB     broker heap (default 1024)
  --out DIR               where results JSON goes (default bench/results)
  -h, --help              this text`

export function parseHttpBenchOptions(argv: string[]): HttpBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sizes: { type: 'string' },
      connections: { type: 'string' },
      'duration-s': { type: 'string' },
      'warmup-s': { type: 'string' },
      'initial-warmup-s': { type: 'string' },
      quick: { type: 'boolean' },
      partitions: { type: 'string' },
      'log-level': { type: 'string' },
      'server-node-flags': { type: 'string' },
      'broker-heap-mb': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) return 'help'
  const quick = values.quick === true
  const sizes = (values.sizes ?? '1,100').split(',').map((s) => int('--sizes', s.trim(), 1))
  const logLevel = values['log-level'] ?? 'info'
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    throw new Error(`--log-level must be a pino level; got ${logLevel}`)
  return {
    sizes,
    connections: int('--connections', values.connections, 10),
    durationMs: 1000 * int('--duration-s', values['duration-s'], quick ? 3 : 10),
    warmupMs: 1000 * int('--warmup-s', values['warmup-s'], quick ? 1 : 3, 0),
    initialWarmupMs: 1000 * int('--initial-warmup-s', values['initial-warmup-s'], quick ? 1 : 5, 0),
    partitions: int('--partitions', values.partitions, 6),
    logLevel,
    serverNodeFlags: (values['server-node-flags'] ?? '').split(/\s+/).filter(Boolean),
    brokerHeapMb: int('--broker-heap-mb', values['broker-heap-mb'], 1024),
    outDir: values.out ?? 'bench/results'
  }
}

export function httpUsage(): string {
  return USAGE
}
