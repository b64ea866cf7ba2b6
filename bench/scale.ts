/**
 * `npm run bench:scale`: how fast the autoscaler reacts to lag, and what a scale step costs, on
 * a broker this script starts for itself and always stops. See docs/benchmarks.md.
 *
 *   reaction  createAutoscaler (local backend, drain policy, interval 5 s): one idle consumer owns
 *             every partition; a backlog is produced; measured from the produce's acknowledgement
 *             to the first record a *new* consumer starts, and split into: waiting for the tick,
 *             observing + deciding, the new process's start-up, joining the group (the rebalance),
 *             and its first fetch. Every round on a fresh topic and group with a fresh autoscaler.
 *   pause     a pool of `lagscale consumer` processes (createLocalPool) stepped 1 -> 2 -> ... -> 8 with
 *             scaleTo(n) under a steady backlog: per step, how long processing of the partitions the
 *             busy workers were on stalls, and how long those workers stall, beyond the normal gap
 *             between two records.
 * Timing comes from the workers' own JSON log lines (START/END with partition and offset,
 * 'assigned' with the generation), the pool's and the loop's log lines, and the group
 * coordinator's lines in the broker log, all on this machine's clock.
 */
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Admin } from '@platformatic/kafka'
import { createLocalPool, type LocalPoolBackend } from '../src/autoscaler/backends/local.ts'
import { createAutoscaler, type RunningAutoscaler } from '../src/autoscaler/index.ts'
import { KAFKA_VERSION, lagscaleHome } from '../src/broker/paths.ts'
import { startThrowawayBroker, type ThrowawayBroker } from '../src/broker/throwaway-broker.ts'
import { SETTING_SOURCES } from '../src/consumer/config.ts'
import { createAdmin, createProducer, type RawProducer } from '../src/kafka/clients.ts'
import { type ConnectionConfig, resolveConnectionConfig } from '../src/kafka/connection-config.ts'
import { createTopic } from '../src/kafka/topics.ts'
import { currentLoad, describeCode, describeMachine } from './lib/machine.ts'
import { killChildren, runProcess } from './lib/processes.ts'
import { fmt, log, Ticker } from './lib/progress.ts'
import { median } from './lib/report.ts'
import {
  analyzeStep,
  type ReactionParts,
  type ReactionTimes,
  reactionParts,
  reactionTimes,
  type StepResult,
  spread,
  type Tick
} from './lib/scale-analysis.ts'
import { BrokerLogTail, ScaleRecorder } from './lib/scale-events.ts'
import { type Layout, parseScaleBenchOptions, type ScaleBenchOptions, scaleUsage } from './lib/scale-options.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'bin/lagscale.js')
const PROBE = new URL('./lib/startup-probe.ts', import.meta.url).href
/** The issue's goals: a new consumer on lag within 5 s (5 s interval); at most 1 s of pause per scale step. */
const GOALS = { reactionMs: 5000, pauseMs: 1000 } as const

interface Context {
  options: ScaleBenchOptions
  connection: ConnectionConfig
  bootstrap: string
  admin: Admin
  producer: RawProducer
  tail: BrokerLogTail
  raw: WriteStream
}

interface ReactionRound {
  round: number
  topic: string
  /** Where in the interval the backlog was produced: 0 = right after a tick, 1 = just before the next. */
  phase: number
  records: number
  times: ReactionTimes
  parts: ReactionParts
  /** Every decision the loop took in the round (action, from -> desired). */
  decisions: { at: number; action: string; from: number; desired: number }[]
}

interface StartupCase {
  name: string
  what: string
  samplesMs: number[]
  medianMs: number
}

/** What an error or Ctrl-C must stop: the running autoscaler or pool, and every worker it spawned. */
const run = {
  interrupted: false,
  current: undefined as { close(): Promise<void> } | undefined,
  recorders: new Set<ScaleRecorder>()
}

async function main(): Promise<number> {
  let parsed: ScaleBenchOptions | 'help'
  try {
    parsed = parseScaleBenchOptions(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${scaleUsage()}\n`)
    return 2
  }
  if (parsed === 'help') {
    log(scaleUsage())
    return 0
  }
  const options = parsed
  const startedAt = new Date()
  const machine = describeMachine()
  log(
    `lagscale scaling benchmark: ${[options.reaction ? `reaction (${options.rounds} rounds)` : '', options.pause ? `pause per step (1 -> ${options.stepsTo})` : ''].filter(Boolean).join(', ')}; ${options.partitions} partitions; work unit ${options.workUnitMs} ms, values 0..10`
  )
  log(
    `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB RAM, load average ${machine.loadAverageStart.join(' ')}`
  )
  log(`goals: reaction <= ${GOALS.reactionMs / 1000} s (interval 5 s), pause <= ${GOALS.pauseMs / 1000} s per step`)

  let bench: ThrowawayBroker | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    if (run.interrupted) {
      killWorkersNow()
      if (bench) {
        try {
          process.kill(bench.broker.pid, 'SIGKILL')
        } catch {}
      }
      process.exit(130)
    }
    run.interrupted = true
    log(`\n${signal}: stopping the workers and the broker (again to force)...`)
    // At once, so the pool does not replace workers that the terminal's Ctrl-C stopped too.
    void run.current?.close().catch(() => {})
    killChildren()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', killWorkersNow)

  const logDir = mkdtempSync(join(tmpdir(), 'lagscale-bench-scale-'))
  const raw = createWriteStream(join(logDir, 'workers.log'))
  let admin: Admin | undefined
  let producer: RawProducer | undefined
  let failed = false
  try {
    log('starting a Kafka broker of our own...')
    const brokerStarted = performance.now()
    bench = await startThrowawayBroker(lagscaleHome(), {
      heapMb: options.brokerHeapMb,
      tempPrefix: 'lagscale-bench-',
      onProgress: (m) => log(`  ${m}`)
    })
    checkpoint()
    const { broker } = bench
    log(
      `Kafka ${broker.kafkaVersion} at ${broker.bootstrap} (pid ${broker.pid}, heap ${options.brokerHeapMb} MB, group.initial.rebalance.delay.ms=0) in ${((performance.now() - brokerStarted) / 1000).toFixed(1)} s`
    )
    const connection = resolveConnectionConfig({
      bootstrapServer: broker.bootstrap,
      clientId: 'lagscale-bench',
      env: {}
    })
    admin = createAdmin(connection)
    producer = createProducer(connection)
    const ctx: Context = {
      options,
      connection,
      bootstrap: broker.bootstrap,
      admin,
      producer,
      tail: new BrokerLogTail(broker.logFile),
      raw
    }
    log(`worker arguments: ${workerArgs(options).join(' ')}${options.probe ? ' (+ start-up probe)' : ''}`)

    const startup = options.startupDiagnosis ? await startupDiagnosis() : undefined
    const rounds: ReactionRound[] = []
    if (options.reaction) {
      log(
        `\nreaction: ${options.rounds} round(s); each a fresh topic (${options.partitions} partitions), group and autoscaler (local, drain, min 1, max ${options.max}, interval ${options.intervalMs} ms, scaleOutCooldown 0)`
      )
      const load = currentLoad()
      for (let round = 1; round <= options.rounds; round++) rounds.push(await reactionRound(ctx, round))
      log(`load average ${load.join(' ')} -> ${currentLoad().join(' ')}`)
    }
    const steps: Partial<Record<Layout, StepResult[]>> = {}
    if (options.pause) {
      for (const layout of options.layouts) {
        log(
          `\npause per step, ${layout} layout: a pool stepped 1 -> ${options.stepsTo} with scaleTo(n), ${options.stepRecords} records per partition of backlog, ${options.settleMs / 1000} s steady after each step`
        )
        const load = currentLoad()
        steps[layout] = await pauseSteps(ctx, layout)
        log(`load average ${load.join(' ')} -> ${currentLoad().join(' ')}`)
      }
    }

    const reaction = rounds.length > 0 ? summarizeReaction(rounds) : undefined
    const pauses: Partial<Record<Layout, { summary: PauseSummary; steps: StepResult[] }>> = {}
    for (const layout of options.layouts) {
      const list = steps[layout]
      if (list) pauses[layout] = { summary: summarizeSteps(list), steps: list }
    }
    log('')
    if (startup) log(renderStartup(startup))
    if (reaction) log(renderReaction(options, rounds, reaction))
    for (const layout of options.layouts) {
      const p = pauses[layout]
      if (p) log(renderSteps(layout, options, p.steps, p.summary))
    }

    const file = join(options.outDir, `scale-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
    mkdirSync(options.outDir, { recursive: true })
    const output = {
      benchmark: 'scale',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options,
      code: { ...describeCode(), changedFiles: changedFiles() },
      machine: { ...machine, loadAverageEnd: currentLoad() },
      broker: {
        kafkaVersion: KAFKA_VERSION,
        heapMb: options.brokerHeapMb,
        bootstrap: broker.bootstrap,
        groupInitialRebalanceDelayMs: 0
      },
      workers: {
        command: 'lagscale consumer (bin/lagscale.js, one Node process each, spawned by the local pool)',
        args: workerArgs(options),
        probe: options.probe ? 'bench/lib/startup-probe.ts via NODE_OPTIONS=--import' : 'none'
      },
      goals: GOALS,
      definitions: DEFINITIONS,
      startup,
      reaction: reaction ? { summary: reaction, rounds } : undefined,
      pause: Object.keys(pauses).length > 0 ? pauses : undefined
    }
    writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`)
    log(`\nresults written to ${file}`)
  } catch (err) {
    failed = true
    if (!run.interrupted) process.stderr.write(`\nbenchmark failed: ${(err as Error).stack ?? String(err)}\n`)
    killChildren()
  } finally {
    await run.current?.close().catch(() => {})
    run.current = undefined
    await producer?.close().catch(() => {})
    await admin?.close().catch(() => {})
    await new Promise<void>((resolve) => raw.end(resolve))
    const keep = options.keepLogs || (failed && !run.interrupted)
    if (keep) log(`worker and autoscaler log lines kept: ${join(logDir, 'workers.log')}`)
    else rmSync(logDir, { recursive: true, force: true })
    if (bench) {
      log(keep ? `stopping the broker (log kept: ${bench.broker.logFile})` : 'stopping the broker...')
      await bench.stop(keep)
    }
  }
  return run.interrupted ? 130 : failed ? 1 : 0
}

const DEFINITIONS = {
  reaction:
    'produce acknowledged (lag appeared) -> first START logged by a worker other than the first one (a new consumer processing its first record)',
  partitionPause:
    'per partition a busy worker had a record of in hand (when the rebalance began or when its new assignment arrived): the longest END -> START gap between two records that counted (for a record redone after a revocation, the redo), from the start of the rebalance to its first record under its new owner, minus the normal END -> START gap',
  queued:
    "the part of a partition pause its new owner spent on other partitions' records first (the order of its fetched records), not waiting",
  workerStall:
    "per worker running before the step: longest END -> next START gap from the rebalance's start to its first record after its new assignment, minus the normal gap",
  normalGap: 'median END -> next START gap of the same worker in steady processing before the step',
  rebalance: "broker 'Preparing to rebalance' -> the last member logged its assignment of the new generation"
}

/** Uncommitted changes to what the workers run (others edit src/ while benchmarks run): `git status --porcelain`. */
function changedFiles(): string[] {
  const out = spawnSync('git', ['status', '--porcelain', '--', 'src', 'bin', 'package.json'], {
    cwd: ROOT,
    encoding: 'utf8'
  })
  return (out.stdout ?? '').split('\n').filter(Boolean)
}

function checkpoint(): void {
  if (run.interrupted) throw new Error('interrupted')
}

/** SIGKILL for every worker still alive: the last resort on a forced exit. */
function killWorkersNow(): void {
  for (const rec of run.recorders) {
    for (const pid of rec.livePids()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  }
}

/** Polls `probe` every 50 ms (reading the broker log too) until it returns a value. */
async function waitFor<T>(
  ctx: Context,
  what: string,
  probe: () => T | undefined,
  { ticker, status, rec }: { ticker?: Ticker; status?: () => string; rec?: ScaleRecorder } = {}
): Promise<T> {
  const started = Date.now()
  const deadline = started + ctx.options.timeoutMs
  for (;;) {
    checkpoint()
    const death = rec?.died(started)
    if (death) throw new Error(`a worker died while waiting for ${what}: ${death}`)
    ctx.tail.poll()
    const value = probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${ctx.options.timeoutMs / 1000} s waiting for ${what}`)
    if (ticker) ticker.set(`waiting for ${what}${status ? `; ${status()}` : ''}`)
    await sleep(50)
  }
}

async function pause(ms: number, rec?: ScaleRecorder): Promise<void> {
  const started = Date.now()
  const until = started + ms
  while (Date.now() < until) {
    checkpoint()
    const death = rec?.died(started)
    if (death) throw new Error(`a worker died: ${death}`)
    await sleep(Math.min(100, until - Date.now()))
  }
}

function workerArgs(options: ScaleBenchOptions): string[] {
  return ['--work-unit-ms', String(options.workUnitMs), '--log-level', 'info', ...options.workerArgs]
}

/** This process's environment minus whatever would override the workers' flags, plus the probe. */
function workerEnv(options: ScaleBenchOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const [, name] of SETTING_SOURCES) delete env[name]
  delete env['KAFKA_BOOTSTRAP_SERVERS']
  delete env['KAFKA_COMMAND_CONFIG']
  if (options.probe) env['NODE_OPTIONS'] = [env['NODE_OPTIONS'], `--import=${PROBE}`].filter(Boolean).join(' ')
  return env
}

/**
 * `perPartition` records on every partition, values 0..10 (the work: value x work unit); resolves at
 * the acknowledgement. Padded (interleaved layout): each record carries a `pad` header of that many
 * bytes and each send holds 4 records per partition, so record batches stay small and a 64 KiB fetch
 * brings ~16 records of each partition instead of its whole backlog.
 */
async function produceBacklog(ctx: Context, topic: string, perPartition: number, padBytes = 0): Promise<number> {
  const { partitions } = ctx.options
  const pad = padBytes > 0 ? new Map([['pad', Buffer.alloc(padBytes, 0x2e)]]) : undefined
  const messages: { topic: string; partition: number; value: Buffer; headers?: Map<string, Buffer> }[] = []
  for (let j = 0; j < perPartition; j++) {
    for (let p = 0; p < partitions; p++) {
      const value = Buffer.from(String((j + p) % 11))
      messages.push(pad ? { topic, partition: p, value, headers: pad } : { topic, partition: p, value })
    }
  }
  const perSend = pad ? 4 * partitions : 1000
  for (let i = 0; i < messages.length; i += perSend) {
    checkpoint()
    await ctx.producer.send({ messages: messages.slice(i, i + perSend) })
  }
  return Date.now()
}

// ---------------------------------------------------------------------------------------------
// Start-up diagnosis: what a worker process loads before it can join

async function startupDiagnosis(): Promise<StartupCase[]> {
  const importOf = (url: string) => ['--input-type=module', '-e', `await import(${JSON.stringify(url)})`]
  const cases: { name: string; what: string; args: string[] }[] = [
    { name: 'node', what: 'Node alone (node -e 0)', args: ['-e', '0'] },
    {
      name: 'cli',
      what: "lagscale --version: the CLI's whole module graph, as `lagscale consumer` loads it",
      args: [CLI, '--version']
    },
    {
      name: 'worker',
      what: "src/consumer/worker.ts: the worker's own modules",
      args: importOf(pathToFileURL(join(ROOT, 'src/consumer/worker.ts')).href)
    },
    { name: 'kafka', what: '@platformatic/kafka alone', args: importOf(import.meta.resolve('@platformatic/kafka')) },
    {
      name: 'autoscaler',
      what: 'src/autoscaler/index.ts (AWS SDK clients, dashboard): loaded by the CLI, unused by a worker',
      args: importOf(pathToFileURL(join(ROOT, 'src/autoscaler/index.ts')).href)
    }
  ]
  const ticker = new Ticker('[start-up diagnosis]')
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  try {
    for (let i = 0; i < 3; i++) {
      for (const c of cases) {
        checkpoint()
        ticker.set(`sample ${i + 1}/3: ${c.what}`)
        const result = await runProcess(process.execPath, c.args, { name: c.what, timeoutMs: 60_000 })
        if (result.code !== 0) throw new Error(`${c.what} failed (exit ${result.code}): ${result.stderr.trim()}`)
        samples.get(c.name)!.push(Math.round(result.wallMs))
      }
    }
  } finally {
    ticker.stop()
  }
  const out = cases.map((c) => ({
    name: c.name,
    what: c.what,
    samplesMs: samples.get(c.name)!,
    medianMs: median(samples.get(c.name)!)
  }))
  log(`[start-up diagnosis] ${out.map((c) => `${c.name} ${fmt(c.medianMs / 1000, 2)} s`).join(', ')} (medians of 3)`)
  return out
}

// ---------------------------------------------------------------------------------------------
// Reaction

async function reactionRound(ctx: Context, round: number): Promise<ReactionRound> {
  const { options } = ctx
  const topic = `bench-scale-r${round}`
  const label = `[reaction ${round}/${options.rounds}]`
  await createTopic(ctx.admin, { topic, partitions: options.partitions, replicationFactor: 1 })
  await ctx.producer.metadata({ topics: [topic] })
  const rec = new ScaleRecorder(ctx.raw)
  run.recorders.add(rec)
  const ticks: Tick[] = []
  const ticker = new Ticker(label)
  ticker.set('starting the autoscaler')
  checkpoint()
  const scaler: RunningAutoscaler = await createAutoscaler({
    connection: ctx.connection,
    logger: rec.logger,
    config: {
      topics: [topic],
      group: topic,
      backend: 'local',
      policy: 'drain',
      min: 1,
      max: options.max,
      interval: options.intervalMs,
      scaleOutCooldown: 0,
      local: { consumerArgs: workerArgs(options), standby: options.standby },
      dashboard: { enabled: false }
    },
    onWorkerOutput: rec.onWorkerOutput,
    workerEnv: workerEnv(options)
  })
  run.current = scaler
  scaler.loop.on('snapshot', (s) => {
    const d = s.decisions.at(-1)
    ticks.push({
      at: s.at,
      doneAt: Date.now(),
      action: d && d.at === s.at ? d.action : 'hold',
      from: d?.from ?? 0,
      desired: d?.desired ?? 0
    })
  })
  try {
    const first = 'worker-1'
    await waitFor(
      ctx,
      `${first} (min 1) to join and own all ${options.partitions} partitions`,
      () =>
        rec.of(first, 'started').length > 0 &&
        rec.of(first, 'assigned').at(-1)?.partitions?.length === options.partitions,
      { ticker, rec }
    )
    // A pool that has run a while has its standbys loaded: a round measures that, not their cold start.
    await waitFor(
      ctx,
      `${options.standby} warm standby worker(s) ready`,
      () => new Set(rec.workers.filter((l) => l.event === 'standby').map((l) => l.worker)).size >= options.standby,
      { ticker, rec }
    )
    // Produce at a chosen point of the interval, spread over the rounds: the wait for the next tick is part of the reaction.
    const seen = ticks.length
    await waitFor(ctx, 'the next tick', () => ticks.length > seen, { ticker, rec })
    const phase = (round - 0.5) / options.rounds
    ticker.set(`${first} idle with every partition; producing ${fmt(phase, 2)} of an interval after the tick`)
    await pause(phase * options.intervalMs, rec)
    const records = options.reactionRecords * options.partitions
    const ackAt = await produceBacklog(ctx, topic, options.reactionRecords)
    await waitFor(
      ctx,
      `a new consumer's first record (${records} records produced)`,
      () => rec.workers.some((l) => l.event === 'START' && l.worker !== first && l.t >= ackAt),
      {
        ticker,
        rec,
        status: () => {
          const spawned = rec.scaler
            .filter((l) => (l.event === 'worker-spawned' || l.event === 'worker-promoted') && l.t >= ackAt)
            .map((l) => l.worker)
          if (spawned.length === 0) return `no decision yet (${s(Date.now() - ackAt)} since the produce)`
          const count = (event: string) => spawned.filter((w) => w && rec.of(w, event).length > 0).length
          return `${spawned.length} spawned: ${count('bench:node-up')} running Node, ${count('bench:first-connect')} loaded, ${count('assigned')} joined`
        }
      }
    )
    await sleep(200)
    const death = rec.died(0)
    if (death) throw new Error(`${label}: a worker died: ${death}`)
    ctx.tail.poll()
    const times = reactionTimes(rec, ctx.tail.of(topic), ackAt, ticks, first)
    if (!times) throw new Error(`${label}: no record started by a new consumer`)
    const parts = reactionParts(times)
    ticker.stop(
      `${s(parts.total)}: decision after ${s(parts.lagToDecision)} (tick wait ${s(parts.waitForTick)}), ${times.decision ? `${times.decision.from} -> ${times.decision.desired}` : '?'}; ${times.worker} joined ${s(parts.spawnToJoin)} after its ${times.promotedAt === undefined ? 'spawn' : 'promotion (warm standby)'} (node ${s(parts.nodeStart)}, modules ${s(parts.loadModules)}, connect + JoinGroup ${s(parts.connectAndJoin)}), assigned ${s(parts.joinToAssigned)} later, first record ${s(parts.assignedToFirstRecord)} after that`
    )
    return {
      round,
      topic,
      phase,
      records,
      times,
      parts,
      decisions: ticks
        .filter((t) => t.action !== 'hold')
        .map((t) => ({ at: t.at, action: t.action, from: t.from, desired: t.desired }))
    }
  } finally {
    ticker.stop()
    await scaler.close()
    run.current = undefined
    run.recorders.delete(rec)
  }
}

// ---------------------------------------------------------------------------------------------
// Pause per rebalance step

async function pauseSteps(ctx: Context, layout: Layout): Promise<StepResult[]> {
  const { options } = ctx
  const topic = `bench-scale-steps-${layout}`
  await createTopic(ctx.admin, { topic, partitions: options.partitions, replicationFactor: 1 })
  const ticker = new Ticker(`[pause ${layout}]`)
  ticker.set(`producing ${options.stepRecords} records per partition`)
  await produceBacklog(ctx, topic, options.stepRecords, layout === 'interleaved' ? options.padBytes : 0)
  const rec = new ScaleRecorder(ctx.raw)
  run.recorders.add(rec)
  const pool: LocalPoolBackend = createLocalPool({
    // What createAutoscaler's local backend passes (src/autoscaler/index.ts), then the bench's worker arguments.
    consumerArgs: [
      '--bootstrap-server',
      ctx.bootstrap,
      '--topic',
      topic,
      '--group',
      topic,
      '--port',
      '0',
      ...workerArgs(options)
    ],
    logger: rec.logger.child({ component: 'pool' }),
    onOutput: rec.onWorkerOutput,
    env: workerEnv(options)
  })
  run.current = pool
  const steps: StepResult[] = []
  try {
    await pool.scaleTo(1)
    const ready = await waitFor(
      ctx,
      'worker-1 to own every partition and process',
      () =>
        rec.of('worker-1', 'assigned').at(-1)?.partitions?.length === options.partitions &&
        rec.of('worker-1', 'START').length > 0
          ? Date.now()
          : undefined,
      { ticker, rec }
    )
    ticker.set('steady processing')
    await pause(options.settleMs, rec)
    ticker.stop(
      `worker-1 owns all ${options.partitions} partitions and works through the backlog (${options.stepRecords} records per partition${layout === 'interleaved' ? `, ${options.padBytes} B of header each` : ''})`
    )
    let steadyFrom = ready + 1000
    for (let n = 1; n < options.stepsTo; n++) {
      const label = `[pause ${layout} ${n} -> ${n + 1}]`
      const stepTicker = new Ticker(label)
      try {
        const scaleAt = Date.now()
        await pool.scaleTo(n + 1)
        const newWorker = rec.scaler.filter((l) => l.event === 'worker-spawned' && l.t >= scaleAt).at(-1)?.worker
        if (!newWorker) throw new Error(`${label}: the pool spawned no worker`)
        const settledAt = await waitFor(
          ctx,
          `${newWorker} to join, all ${n + 1} workers to take their new assignment and ${newWorker} to process`,
          () => {
            const stable = ctx.tail.of(topic, 'stabilized').filter((e) => e.t >= scaleAt)
            const g = stable.at(-1)
            if (!g || g.members !== n + 1) return undefined
            const assigned = rec.workers.filter((l) => l.event === 'assigned' && l.generationId === g.generation)
            const members = new Set(assigned.map((l) => l.worker))
            if (members.size < n + 1 || !members.has(newWorker)) return undefined
            if (!rec.of(newWorker, 'START').some((l) => l.t >= g.t)) return undefined
            return Math.max(...assigned.map((l) => l.t))
          },
          { ticker: stepTicker, rec }
        )
        stepTicker.set(`rebalanced; ${options.settleMs / 1000} s of steady processing`)
        await pause(options.settleMs, rec)
        const death = rec.died(scaleAt)
        if (death) throw new Error(`${label}: a worker died during the step: ${death}`)
        ctx.tail.poll()
        const windowEnd = Date.now()
        const result = analyzeStep(rec, ctx.tail.of(topic), {
          from: n,
          to: n + 1,
          scaleAt,
          newWorker,
          steadyFrom,
          windowEnd
        })
        if ('error' in result) throw new Error(`${label}: ${result.error}`)
        steps.push(result)
        stepTicker.stop(
          `${newWorker} joined ${s(result.spawnToJoinMs)} after its spawn; rebalance ${s(result.rebalanceMs)} (members rejoined after ${s(result.rejoinMs)}); partition pause max ${s(result.pause.maxMs)} / median ${s(result.pause.medianMs)} (${result.partitions.filter((p) => p.moved).length} of ${result.partitions.length} moved; max ${s(result.pauseExclQueue.maxMs)} without time queued behind other partitions), worker stall max ${s(result.stall.maxMs)}; ${result.redone.records} record(s) redone (${s(result.redone.wastedMs)} of work lost), ${result.handedOff.records} handed off`
        )
        steadyFrom = settledAt + 1000
      } finally {
        stepTicker.stop()
      }
    }
  } finally {
    ticker.stop()
    await pool.close()
    run.current = undefined
    run.recorders.delete(rec)
  }
  return steps
}

// ---------------------------------------------------------------------------------------------
// Summary

function summarizeReaction(rounds: ReactionRound[]) {
  const part = (k: keyof ReactionParts) => spread(rounds.map((r) => r.parts[k]))
  const total = part('total')
  return {
    goalMs: GOALS.reactionMs,
    totalMs: total,
    ratio: { median: total.median / GOALS.reactionMs, max: total.max / GOALS.reactionMs },
    met: { median: total.median <= GOALS.reactionMs, max: total.max <= GOALS.reactionMs },
    partsMs: {
      lagToDecision: part('lagToDecision'),
      waitForTick: part('waitForTick'),
      observeAndDecide: part('observeAndDecide'),
      decisionToSpawn: part('decisionToSpawn'),
      spawnToJoin: part('spawnToJoin'),
      nodeStart: part('nodeStart'),
      loadModules: part('loadModules'),
      connectAndJoin: part('connectAndJoin'),
      joinToAssigned: part('joinToAssigned'),
      assignedToFirstRecord: part('assignedToFirstRecord')
    },
    spawnedTogether: spread(rounds.map((r) => r.times.spawnedTogether))
  }
}

type ReactionSummary = ReturnType<typeof summarizeReaction>

function summarizeSteps(steps: StepResult[]) {
  const maxPause = Math.max(0, ...steps.map((x) => x.pause.maxMs))
  const maxPauseExcl = Math.max(0, ...steps.map((x) => x.pauseExclQueue.maxMs))
  const maxStall = Math.max(0, ...steps.map((x) => x.stall.maxMs))
  return {
    goalMs: GOALS.pauseMs,
    partitionPauseMaxMs: maxPause,
    partitionPauseMedianOfStepMaxMs: median(steps.map((x) => x.pause.maxMs)),
    partitionPauseExclQueueMaxMs: maxPauseExcl,
    workerStallMaxMs: maxStall,
    ratio: {
      partitionPauseMax: maxPause / GOALS.pauseMs,
      partitionPauseExclQueueMax: maxPauseExcl / GOALS.pauseMs,
      workerStallMax: maxStall / GOALS.pauseMs
    },
    met: maxPause <= GOALS.pauseMs && maxStall <= GOALS.pauseMs,
    stepsOverGoal: steps
      .filter((x) => x.pause.maxMs > GOALS.pauseMs || x.stall.maxMs > GOALS.pauseMs)
      .map((x) => x.step),
    movedPartitions: steps.reduce((n, x) => n + x.partitions.filter((p) => p.moved).length, 0),
    measuredPartitions: steps.reduce((n, x) => n + x.partitions.length, 0),
    redoneRecords: steps.reduce((n, x) => n + x.redone.records, 0),
    handedOffRecords: steps.reduce((n, x) => n + x.handedOff.records, 0),
    rebalanceMs: spread(steps.map((x) => x.rebalanceMs)),
    spawnToJoinMs: spread(steps.map((x) => x.spawnToJoinMs))
  }
}

type PauseSummary = ReturnType<typeof summarizeSteps>

function s(ms: number | undefined): string {
  return ms === undefined || Number.isNaN(ms) ? '-' : `${(ms / 1000).toFixed(2)} s`
}

function sec(ms: number | undefined): string {
  return ms === undefined || Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(2)
}

function verdict(ratio: number): string {
  return `${ratio.toFixed(2)}x of goal (${ratio <= 1 ? 'met' : 'MISSED'})`
}

function table(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function renderStartup(cases: StartupCase[]): string {
  return [
    'Start-up of a fresh Node process (wall clock, median of 3):',
    ...cases.map((c) => `  ${sec(c.medianMs).padStart(5)} s  ${c.what}`),
    ''
  ].join('\n')
}

function renderReaction(options: ScaleBenchOptions, rounds: ReactionRound[], summary: ReactionSummary): string {
  const header = [
    'round',
    'phase',
    'total s',
    'lag->decision',
    '(tick wait)',
    'decision',
    'spawn->join',
    '(node',
    'modules',
    'join)',
    'join->assigned',
    'assigned->record'
  ]
  const rows = rounds.map((r) => [
    String(r.round),
    fmt(r.phase, 2),
    sec(r.parts.total),
    sec(r.parts.lagToDecision),
    sec(r.parts.waitForTick),
    r.times.decision ? `${r.times.decision.from}->${r.times.decision.desired}` : '-',
    sec(r.parts.spawnToJoin),
    sec(r.parts.nodeStart),
    sec(r.parts.loadModules),
    sec(r.parts.connectAndJoin),
    sec(r.parts.joinToAssigned),
    sec(r.parts.assignedToFirstRecord)
  ])
  const p = summary.partsMs
  const t = summary.totalMs
  return [
    `Reaction: ${options.reactionRecords * options.partitions} records (values 0..10 x ${options.workUnitMs} ms) produced at once -> a new consumer's first record; interval ${options.intervalMs / 1000} s, drain policy, min 1, max ${options.max}`,
    table(header, rows),
    '',
    `reaction min / median / max  ${sec(t.min)} / ${sec(t.median)} / ${sec(t.max)} s   goal <= ${GOALS.reactionMs / 1000} s: median ${verdict(summary.ratio.median)}, max ${verdict(summary.ratio.max)}`,
    `  medians: lag -> decision ${s(p.lagToDecision.median)} (tick wait ${s(p.waitForTick.median)}, observe + decide ${s(p.observeAndDecide.median)}); spawn -> JoinGroup ${s(p.spawnToJoin.median)} (Node ${s(p.nodeStart.median)}, modules ${s(p.loadModules.median)}, connect + join ${s(p.connectAndJoin.median)}); JoinGroup -> assigned ${s(p.joinToAssigned.median)}; assigned -> first record ${s(p.assignedToFirstRecord.median)}`,
    `  workers spawned by the scale-out decision: ${summary.spawnedTogether.min === summary.spawnedTogether.max ? summary.spawnedTogether.min : `${summary.spawnedTogether.min}-${summary.spawnedTogether.max}`} at once (they start on the same ${describeMachine().cpus} cores)`,
    ''
  ].join('\n')
}

function renderSteps(layout: Layout, options: ScaleBenchOptions, steps: StepResult[], summary: PauseSummary): string {
  const header = [
    'step',
    'spawn->join',
    'rebalance',
    '(rejoin',
    'sync)',
    'pause max',
    'median',
    'moved',
    'excl. queue max',
    'stall max',
    'normal gap',
    'redone (lost s)',
    'handed off',
    'max/goal'
  ]
  const rows = steps.map((x) => [
    x.step,
    sec(x.spawnToJoinMs),
    sec(x.rebalanceMs),
    sec(x.rejoinMs),
    sec(x.syncMs),
    `${sec(x.pause.maxMs)}${x.partitions.some((p) => p.censored) ? '+' : ''}`,
    sec(x.pause.medianMs),
    `${x.partitions.filter((p) => p.moved).length}/${x.partitions.length}`,
    sec(x.pauseExclQueue.maxMs),
    `${sec(x.stall.maxMs)}${x.workers.some((w) => w.censored) ? '+' : ''}`,
    sec(x.normalGapMs),
    `${x.redone.records} (${sec(x.redone.wastedMs)})`,
    String(x.handedOff.records),
    `${(Math.max(x.pause.maxMs, x.stall.maxMs) / GOALS.pauseMs).toFixed(2)}x`
  ])
  return [
    `Pause per rebalance step, ${layout} layout (seconds; pool stepped with scaleTo, ${options.stepRecords} records per partition of backlog${layout === 'interleaved' ? `, ${options.padBytes} B header each` : ''}):`,
    table(header, rows),
    '  pause: per partition a busy worker had in hand (moved: it went to another worker); excl. queue: without the time its new owner',
    '  spent on other partitions first; stall: per worker running before the step; all minus the normal gap; + = lower bound',
    '',
    `partition pause max ${s(summary.partitionPauseMaxMs)}: ${verdict(summary.ratio.partitionPauseMax)}; excl. queue ${s(summary.partitionPauseExclQueueMaxMs)}; median of the steps' max ${s(summary.partitionPauseMedianOfStepMaxMs)}; worker stall max ${s(summary.workerStallMaxMs)}: ${verdict(summary.ratio.workerStallMax)}`,
    `  rebalance per step ${sec(summary.rebalanceMs.min)} - ${sec(summary.rebalanceMs.max)} s (median ${sec(summary.rebalanceMs.median)}); new worker spawn -> JoinGroup ${sec(summary.spawnToJoinMs.min)} - ${sec(summary.spawnToJoinMs.max)} s (median ${sec(summary.spawnToJoinMs.median)}); ${summary.redoneRecords} record(s) redone, ${summary.handedOffRecords} handed off${summary.stepsOverGoal.length > 0 ? `; over the goal: ${summary.stepsOverGoal.join(', ')}` : ''}`,
    ''
  ].join('\n')
}

process.exit(await main())
