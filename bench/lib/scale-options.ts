import { parseArgs } from 'node:util'
import { int } from './int-flag.ts'

/**
 * runs: small records (the seed's); one fetch brings a partition's whole backlog, so a worker works
 *   through one partition after the other.
 * interleaved: records padded with a header, produced a few per partition at a time; one 64 KiB fetch
 *   brings ~16 per partition, so a worker alternates between its partitions and the partition it is
 *   on when a rebalance begins is often one that moves.
 */
export type Layout = 'runs' | 'interleaved'
export const LAYOUTS: readonly Layout[] = ['runs', 'interleaved']

export interface ScaleBenchOptions {
  /** Which parts run. */
  reaction: boolean
  pause: boolean
  /** Reaction rounds, each on a fresh topic and group with a fresh autoscaler. */
  rounds: number
  /** The autoscaler's decision interval. */
  intervalMs: number
  /** The autoscaler's max consumers (the policy's ceiling). */
  max: number
  /** Reaction: the local pool's warm standbys (the product's default: 1). */
  standby: number
  /** Partitions of every benchmark topic. */
  partitions: number
  /** `--work-unit-ms` of every worker: a record with value v takes v x this. */
  workUnitMs: number
  /** Reaction: records per partition in the backlog produced at once. */
  reactionRecords: number
  /** Pause: the pool steps 1 -> 2 -> ... -> this. */
  stepsTo: number
  /** Pause: records per partition produced before the steps (a steady backlog throughout). */
  stepRecords: number
  /** Pause: steady processing after each step's rebalance, measured and before the next step. */
  settleMs: number
  /** Pause: the record layouts to step through (each on its own topic and pool). */
  layouts: Layout[]
  /** Pause, interleaved layout: bytes of padding (a record header) per record. */
  padBytes: number
  /** Extra arguments for every `lagscale consumer` (e.g. --heartbeat-interval-ms 300). */
  workerArgs: string[]
  /** Load bench/lib/startup-probe.ts into every worker (stamps Node start-up and the first connection). */
  probe: boolean
  /** Time the start-up of Node, the CLI and the client modules in fresh processes. */
  startupDiagnosis: boolean
  /** Longest wait for any one thing (a worker to join, a record to start...). */
  timeoutMs: number
  brokerHeapMb: number
  keepLogs: boolean
  outDir: string
}

const USAGE = `Usage: npm run bench:scale -- [options]

Starts its own Kafka broker and measures, on it:
  reaction  the autoscaler (createAutoscaler, local backend, drain policy): from a backlog
            appearing (produce acknowledged) to a new consumer processing its first record
  pause     a pool of \`lagscale consumer\` processes stepped 1 -> 2 -> ... -> 8 under a steady
            backlog: per step, how long processing stalls per partition and per worker

  --only reaction|pause     run one part only
  --rounds R                reaction rounds (default 5; fresh topic, group and autoscaler each)
  --interval-ms MS          the autoscaler's interval (default 5000)
  --max N                   the autoscaler's max consumers (default 8)
  --standby N               reaction: warm standby workers in the pool (default 1, as lagscale's; 0: cold starts)
  --partitions P            partitions per topic (default 8)
  --work-unit-ms MS         the workers' --work-unit-ms; records carry values 0..10 (default 50)
  --reaction-records N      reaction backlog, records per partition (default 50)
  --steps-to N              pause: step the pool up to N workers (default 8)
  --step-records N          pause backlog, records per partition (default 500)
  --settle-s S              pause: steady seconds after each step's rebalance (default 8)
  --layouts L,L             pause: record layouts, runs and/or interleaved (default both; see docs)
  --pad-bytes B             pause, interleaved: header bytes per record (default 4096)
  --worker-args="..."       extra \`lagscale consumer\` arguments, e.g. --worker-args="--heartbeat-interval-ms 300"
  --no-probe                do not load bench/lib/startup-probe.ts into the workers
  --no-startup-diagnosis    skip timing Node / CLI / module start-up in fresh processes
  --quick                   --rounds 2 --steps-to 3 --settle-s 3: checks that the benchmark works
  --timeout-s S             longest wait for any one event (default 90)
  --broker-heap-mb MB       broker heap (default 512)
  --keep-logs               keep every worker's log lines and the broker log (temp dir, path printed)
  --out DIR                 where results JSON goes (default bench/results)
  -h, --help                this text`

export function parseScaleBenchOptions(argv: string[]): ScaleBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      only: { type: 'string' },
      rounds: { type: 'string' },
      'interval-ms': { type: 'string' },
      max: { type: 'string' },
      standby: { type: 'string' },
      partitions: { type: 'string' },
      'work-unit-ms': { type: 'string' },
      'reaction-records': { type: 'string' },
      'steps-to': { type: 'string' },
      'step-records': { type: 'string' },
      'settle-s': { type: 'string' },
      layouts: { type: 'string' },
      'pad-bytes': { type: 'string' },
      'worker-args': { type: 'string' },
      'no-probe': { type: 'boolean' },
      'no-startup-diagnosis': { type: 'boolean' },
      quick: { type: 'boolean' },
      'timeout-s': { type: 'string' },
      'broker-heap-mb': { type: 'string' },
      'keep-logs': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) return 'help'
  const quick = values.quick === true
  const only = values.only
  if (only !== undefined && only !== 'reaction' && only !== 'pause') {
    throw new Error(`--only must be reaction or pause; got ${only}`)
  }
  const partitions = int('--partitions', values.partitions, 8, 2)
  const stepsTo = int('--steps-to', values['steps-to'], quick ? 3 : Math.min(8, partitions), 2)
  if (stepsTo > partitions) throw new Error(`--steps-to ${stepsTo} is more than --partitions ${partitions}`)
  const layouts = (values.layouts ?? LAYOUTS.join(',')).split(',').map((l) => l.trim())
  for (const l of layouts) {
    if (!(LAYOUTS as readonly string[]).includes(l))
      throw new Error(`--layouts: ${l} is not one of ${LAYOUTS.join(', ')}`)
  }
  return {
    reaction: only !== 'pause',
    pause: only !== 'reaction',
    rounds: int('--rounds', values.rounds, quick ? 2 : 5),
    intervalMs: int('--interval-ms', values['interval-ms'], 5000, 100),
    max: int('--max', values.max, 8, 2),
    standby: int('--standby', values.standby, 1, 0),
    partitions,
    workUnitMs: int('--work-unit-ms', values['work-unit-ms'], 50),
    reactionRecords: int('--reaction-records', values['reaction-records'], 50),
    stepsTo,
    stepRecords: int('--step-records', values['step-records'], 500),
    settleMs: 1000 * int('--settle-s', values['settle-s'], quick ? 3 : 8),
    layouts: [...new Set(layouts)] as Layout[],
    padBytes: int('--pad-bytes', values['pad-bytes'], 4096, 0),
    workerArgs: (values['worker-args'] ?? '').split(/\s+/).filter(Boolean),
    probe: values['no-probe'] !== true,
    startupDiagnosis: values['no-startup-diagnosis'] !== true,
    timeoutMs: 1000 * int('--timeout-s', values['timeout-s'], 90),
    brokerHeapMb: int('--broker-heap-mb', values['broker-heap-mb'], 512, 256),
    keepLogs: values['keep-logs'] === true,
    outDir: values.out ?? 'bench/results'
  }
}

export function scaleUsage(): string {
  return USAGE
}
