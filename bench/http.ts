/**
 * `npm run bench:http`: the producer web app's POST /msk-producer-send under load, against
 * the same Kafka work done raw (no HTTP), on a broker this script starts for itself and
 * always stops. See docs/benchmarks.md.
 *
 * The app runs as `lagscale producer` in a process of its own, so autocannon (in this
 * process) and the server do not share one event loop: on a shared loop every response
 * the load tool parses and every request it writes would be time taken from the server,
 * and the server's stalls would show up as the load tool's. Per size N (message=N):
 *   http: warm-up, then autocannon for --duration-s with --connections connections
 *   raw:  bench/lib/raw-sender.ts in a fresh process: the same N records per awaited
 *         producer.send() (createProducer: acks=all, idempotent, as the app's sink), in
 *         --connections concurrent loops, warm-up then the same duration
 */
import type { ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Admin } from '@platformatic/kafka'
import autocannon from 'autocannon'
import { freePort } from '../src/broker/local-broker.ts'
import { KAFKA_VERSION, lagscaleHome } from '../src/broker/paths.ts'
import { startThrowawayBroker, type ThrowawayBroker } from '../src/broker/throwaway-broker.ts'
import { createAdmin } from '../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../src/kafka/connection-config.ts'
import { logEndOffsets } from '../src/kafka/groups.ts'
import { createTopic } from '../src/kafka/topics.ts'
import { type HttpBenchOptions, httpUsage, parseHttpBenchOptions } from './lib/http-options.ts'
import { currentLoad, describeCode, describeMachine } from './lib/machine.ts'
import { killChildren, processCpuMs, runProcess, startProcess } from './lib/processes.ts'
import { fmt, fmtInt, log, Ticker } from './lib/progress.ts'
import type { RawSenderConfig, RawSenderProgress, RawSenderResult } from './lib/raw-sender.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'bin/lagscale.js')
const RAW_SENDER = fileURLToPath(new URL('./lib/raw-sender.ts', import.meta.url))
const SEND_PATH = '/msk-producer-send'
const HTTP_TOPIC = 'bench-http'

interface Latency {
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** One measured run of one path (http or raw) at one size. */
interface PathMeasure {
  /** HTTP requests, or raw awaited sends, completed in the window. */
  calls: number
  records: number
  elapsedMs: number
  callsPerSec: number
  recordsPerSec: number
  latencyMs: Latency
  /** CPU of the process doing the Kafka work (the app, or the raw sender) during the window. */
  workerCpuMs: number | undefined
  brokerCpuMs: number | undefined
}

interface HttpMeasure extends PathMeasure {
  /** CPU of this process (autocannon) during the window. */
  loadToolCpuMs: number
  non2xx: number
  errors: number
  timeouts: number
  /** autocannon's own latency figures (whole milliseconds). */
  autocannonLatencyMs: { p50: number; p99: number }
}

interface SizeResult {
  size: number
  http: HttpMeasure
  raw: PathMeasure
  /** http records/s over raw records/s. */
  ratio: number
}

interface Server {
  child: ChildProcess
  url: string
  logFile: string
  /** SIGTERM (graceful), then SIGKILL after 15 s. Resolves with the exit code. Idempotent. */
  stop(): Promise<number | null>
}

const run = { interrupted: false, cannon: undefined as autocannon.Instance | undefined }

function checkpoint(): void {
  if (run.interrupted) throw new Error('interrupted')
}

async function main(): Promise<number> {
  let parsed: HttpBenchOptions | 'help'
  try {
    parsed = parseHttpBenchOptions(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${httpUsage()}\n`)
    return 2
  }
  if (parsed === 'help') {
    log(httpUsage())
    return 0
  }
  const options = parsed
  const home = lagscaleHome()
  const startedAt = new Date()
  const machine = describeMachine()
  log(
    `lagscale HTTP producer benchmark: POST ${SEND_PATH} message=${options.sizes.join(', ')}; ${options.connections} connections; ${options.durationMs / 1000} s each after ${options.warmupMs / 1000} s warm-up`
  )
  log(
    `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB RAM, load average ${machine.loadAverageStart.join(' ')}`
  )

  let bench: ThrowawayBroker | undefined
  let admin: Admin | undefined
  let server: Server | undefined
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
    log(`\n${signal}: stopping the load, the app and the broker (again to force)...`)
    run.cannon?.stop()
    killChildren()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const workDir = mkdtempSync(join(tmpdir(), 'lagscale-bench-http-'))
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
    await createTopic(admin, { topic: HTTP_TOPIC, partitions: options.partitions, replicationFactor: 1 })
    server = await startServer(options, broker.bootstrap, workDir)
    log(`producer app at ${server.url} (pid ${server.child.pid}, LOG_LEVEL ${options.logLevel}, log ${server.logFile})`)

    const results: SizeResult[] = []
    /** Every record the app acknowledged in a 2xx, and how many more requests may have been in flight. */
    const httpTally = { records: 0, inFlightMax: 0 }
    if (options.initialWarmupMs > 0) {
      // The broker's JIT and fresh log segments made whichever step ran first up to 3x slower.
      log(
        `\nwarm-up (not measured): ${options.initialWarmupMs / 1000} s of each size through each path, so the first measurement does not meet a cold broker`
      )
      for (const size of options.sizes) {
        const warm = await cannon(options, server, size, options.initialWarmupMs, `[warm-up http message=${size}]`)
        httpTally.records += warm.result['2xx'] * size
        httpTally.inFlightMax += options.connections * size
        await measureRaw(options, admin, broker.bootstrap, broker.pid, size, true)
      }
    }
    for (const size of options.sizes) {
      log(`\nmessage=${size}`)
      const http = await measureHttp(options, server, broker.pid, size, httpTally)
      const raw = await measureRaw(options, admin, broker.bootstrap, broker.pid, size)
      const ratio = http.recordsPerSec / raw.recordsPerSec
      log(`message=${size}: HTTP / raw = ${ratio.toFixed(2)}x (records/s)`)
      results.push({ size, http, raw, ratio })
    }

    const exitCode = await server.stop()
    // A graceful stop is part of the contract (SIGTERM: finish in-flight requests, exit 0).
    if (exitCode !== 0) throw new Error(`the producer app exited with ${exitCode} after SIGTERM, not 0`)
    const held = await topicTotal(admin, HTTP_TOPIC, options.partitions)
    const most = httpTally.records + httpTally.inFlightMax
    if (held < httpTally.records || held > most) {
      throw new Error(
        `topic ${HTTP_TOPIC} holds ${held} records; the app answered 2xx for ${httpTally.records} (at most ${most} with requests in flight when a run ended)`
      )
    }
    log(
      `\ntopic ${HTTP_TOPIC} holds ${fmtInt(held)} records: ${fmtInt(httpTally.records)} answered 2xx + ${fmtInt(held - httpTally.records)} from requests in flight when autocannon stopped (at most ${fmtInt(httpTally.inFlightMax)})`
    )

    log('')
    log(
      `Results: ${options.connections} connections / concurrent loops, ${options.durationMs / 1000} s each, ${options.partitions} partitions, app LOG_LEVEL ${options.logLevel}`
    )
    log(renderTable(results, options.durationMs))

    const file = join(options.outDir, `http-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
    mkdirSync(options.outDir, { recursive: true })
    const output = {
      benchmark: 'http',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options,
      code: describeCode(),
      machine: { ...machine, loadAverageEnd: currentLoad() },
      broker: { kafkaVersion: KAFKA_VERSION, heapMb: options.brokerHeapMb, bootstrap: broker.bootstrap },
      app: {
        how: 'lagscale producer (bin/lagscale.js) in its own process; defaults: one createProducer (acks=all, idempotent), batchSize 4000',
        logLevel: options.logLevel
      },
      raw: 'bench/lib/raw-sender.ts: one createProducer (acks=all, idempotent), N records (random 0..10, partitions round robin) per awaited send(), in --connections loops',
      ratioBasis: 'records/s of the HTTP path over records/s of the raw sends, same N, same concurrency',
      httpTopic: { topic: HTTP_TOPIC, recordsHeld: held, recordsAnswered2xx: httpTally.records },
      results
    }
    writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`)
    log(`\nresults written to ${file}`)
  } catch (err) {
    failed = true
    if (!run.interrupted) process.stderr.write(`\nbenchmark failed: ${(err as Error).stack ?? String(err)}\n`)
    run.cannon?.stop()
    killChildren()
  } finally {
    if (server) {
      await server.stop()
      if (failed && !run.interrupted) {
        log(`producer app log kept: ${server.logFile}; its last lines:\n${tail(server.logFile, 15)}`)
      }
    }
    if (!(failed && !run.interrupted)) rmSync(workDir, { recursive: true, force: true })
    await admin?.close().catch(() => {})
    if (bench) {
      const keepLog = failed && !run.interrupted
      log(keepLog ? `stopping the broker (log kept: ${bench.broker.logFile})` : 'stopping the broker...')
      await bench.stop(keepLog)
    }
  }
  return run.interrupted ? 130 : failed ? 1 : 0
}

/** `lagscale producer` on a free port, its output to a file; resolves once its health check answers 200. */
async function startServer(options: HttpBenchOptions, bootstrap: string, workDir: string): Promise<Server> {
  const port = await freePort()
  const logFile = join(workDir, 'producer-app.log')
  const fd = openSync(logFile, 'w')
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: options.logLevel }
  for (const name of ['KAFKA_BOOTSTRAP_SERVERS', 'KAFKA_COMMAND_CONFIG', 'PORT', 'TOPIC', 'MAX_MESSAGES_PER_REQUEST'])
    delete env[name]
  const args = [
    ...options.serverNodeFlags,
    CLI,
    'producer',
    '--bootstrap-server',
    bootstrap,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--topic',
    HTTP_TOPIC
  ]
  const child = startProcess(process.execPath, args, { env, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const url = `http://127.0.0.1:${port}`
  let exited: Promise<number | null> | undefined
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const server: Server = {
    child,
    url,
    logFile,
    stop: () => {
      exited ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
        child.kill('SIGTERM')
        const force = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL')
          } catch {}
        }, 15_000)
        try {
          return await exit
        } finally {
          clearTimeout(force)
        }
      })()
      return exited
    }
  }
  const deadline = performance.now() + 30_000
  for (;;) {
    checkpoint()
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the producer app exited (${child.exitCode ?? child.signalCode}):\n${tail(logFile, 15)}`)
    }
    const status = await fetch(`${url}/msk-producer-healthCheck`).then(
      (r) => r.status,
      () => 0
    )
    if (status === 200) return server
    if (performance.now() > deadline) {
      await server.stop()
      throw new Error(`the producer app was not healthy within 30 s (last status ${status}):\n${tail(logFile, 15)}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function measureHttp(
  options: HttpBenchOptions,
  server: Server,
  brokerPid: number,
  size: number,
  tally: { records: number; inFlightMax: number }
): Promise<HttpMeasure> {
  if (options.warmupMs > 0) {
    const warm = await cannon(options, server, size, options.warmupMs, `[http message=${size} warm-up]`)
    tally.records += warm.result['2xx'] * size
    tally.inFlightMax += options.connections * size
  }
  const serverCpu = processCpuMs(server.child.pid!)
  const brokerCpu = processCpuMs(brokerPid)
  const ownCpu = process.cpuUsage()
  const { result, latencies } = await cannon(options, server, size, options.durationMs, `[http message=${size}]`)
  const used = process.cpuUsage(ownCpu)
  tally.records += result['2xx'] * size
  tally.inFlightMax += options.connections * size
  const elapsedMs = result.duration * 1000
  const calls = result['2xx']
  return {
    calls,
    records: calls * size,
    elapsedMs,
    callsPerSec: (calls * 1000) / elapsedMs,
    recordsPerSec: (calls * size * 1000) / elapsedMs,
    latencyMs: latencyOf(latencies),
    workerCpuMs: cpuDelta(serverCpu, processCpuMs(server.child.pid!)),
    brokerCpuMs: cpuDelta(brokerCpu, processCpuMs(brokerPid)),
    loadToolCpuMs: (used.user + used.system) / 1000,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99 }
  }
}

/** One autocannon run; throws on any non-2xx answer, connection error or timeout. */
async function cannon(
  options: HttpBenchOptions,
  server: Server,
  size: number,
  durationMs: number,
  label: string
): Promise<{ result: autocannon.Result; latencies: Float64Array }> {
  checkpoint()
  const ticker = new Ticker(label)
  let ok = 0
  let bad = 0
  let latencies = new Float64Array(1 << 16)
  const started = performance.now()
  const progress = setInterval(() => {
    const s = (performance.now() - started) / 1000
    ticker.set(
      `${fmtInt(ok)} x 2xx, ${fmtInt(ok / s)} req/s = ${fmtInt((ok * size) / s)} records/s${bad ? `, ${fmtInt(bad)} NOT 2xx` : ''}`
    )
  }, 250)
  try {
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: `${server.url}${SEND_PATH}`,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `message=${size}`,
          connections: options.connections,
          duration: durationMs / 1000
        },
        (err, result) => (err ? reject(err) : resolve(result))
      )
      run.cannon = instance
      instance.on('response', (_client, status: number, _bytes: number, responseTime: number) => {
        if (status < 200 || status > 299) {
          bad++
          return
        }
        if (ok === latencies.length) {
          const grown = new Float64Array(latencies.length * 2)
          grown.set(latencies)
          latencies = grown
        }
        latencies[ok++] = responseTime
      })
    })
    run.cannon = undefined
    checkpoint()
    if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || bad > 0) {
      const codes = Object.entries(result.statusCodeStats ?? {})
        .map(([code, s]) => `${code}: ${s.count ?? 0}`)
        .join(', ')
      throw new Error(
        `${label} FAILED: ${result.non2xx} non-2xx answers (${codes}), ${result.errors} connection errors, ${result.timeouts} timeouts; the app's log: ${server.logFile}`
      )
    }
    ticker.stop(
      `done: ${fmtInt(result['2xx'])} x 2xx in ${result.duration.toFixed(1)} s, ${fmtInt(result['2xx'] / result.duration)} req/s = ${fmtInt((result['2xx'] * size) / result.duration)} records/s`
    )
    return { result, latencies: latencies.slice(0, ok) }
  } finally {
    clearInterval(progress)
    ticker.stop()
  }
}

async function measureRaw(
  options: HttpBenchOptions,
  admin: Admin,
  bootstrap: string,
  brokerPid: number,
  size: number,
  warmUpOnly = false
): Promise<PathMeasure> {
  checkpoint()
  const topic = `bench-raw-${size}${warmUpOnly ? '-warm-up' : ''}`
  await createTopic(admin, { topic, partitions: options.partitions, replicationFactor: 1 })
  const label = warmUpOnly ? `[warm-up raw  message=${size}]` : `[raw  message=${size}]`
  const config: RawSenderConfig = {
    bootstrap,
    topic,
    recordsPerCall: size,
    concurrency: options.connections,
    warmupMs: warmUpOnly ? 0 : options.warmupMs,
    durationMs: warmUpOnly ? options.initialWarmupMs : options.durationMs
  }
  const ticker = new Ticker(label)
  let result: RawSenderResult | undefined
  const brokerCpu = { start: undefined as number | undefined, end: undefined as number | undefined }
  let measuring = false
  try {
    const child = await runProcess(process.execPath, [RAW_SENDER, JSON.stringify(config)], {
      name: label,
      timeoutMs: options.warmupMs + options.durationMs + 60_000,
      onLine: (line) => {
        let event: RawSenderProgress | RawSenderResult
        try {
          event = JSON.parse(line) as RawSenderProgress | RawSenderResult
        } catch {
          return
        }
        if (event.event === 'result') {
          result = event
          return
        }
        // Broker CPU over the measured window, as near as progress lines (every 250 ms) allow.
        if (event.phase === 'measure' && !measuring) {
          measuring = true
          brokerCpu.start = processCpuMs(brokerPid)
        }
        if (event.phase === 'measure' && event.elapsedMs <= options.durationMs) brokerCpu.end = processCpuMs(brokerPid)
        const s = event.elapsedMs / 1000
        ticker.set(
          `${event.phase === 'warm-up' ? 'warm-up: ' : ''}${fmtInt(event.calls)} sends, ${fmtInt(event.calls / s)} sends/s = ${fmtInt((event.calls * size) / s)} records/s`
        )
      }
    })
    if (child.code !== 0 || !result) {
      throw new Error(
        `${label} failed (exit ${child.code ?? child.signal}):\n${child.stderr.trim().split('\n').slice(-15).join('\n')}`
      )
    }
    const r = result
    const held = await topicTotal(admin, topic, options.partitions)
    if (held !== r.totalRecords)
      throw new Error(`topic ${topic} holds ${held} records; ${r.totalRecords} were acknowledged`)
    const measure: PathMeasure = {
      calls: r.calls,
      records: r.records,
      elapsedMs: r.elapsedMs,
      callsPerSec: (r.calls * 1000) / r.elapsedMs,
      recordsPerSec: (r.records * 1000) / r.elapsedMs,
      latencyMs: r.latencyMs,
      workerCpuMs: r.cpuMs,
      brokerCpuMs: cpuDelta(brokerCpu.start, brokerCpu.end)
    }
    ticker.stop(
      `done: ${fmtInt(r.calls)} sends in ${(r.elapsedMs / 1000).toFixed(1)} s, ${fmtInt(measure.callsPerSec)} sends/s = ${fmtInt(measure.recordsPerSec)} records/s`
    )
    return measure
  } finally {
    ticker.stop()
  }
}

async function topicTotal(admin: Admin, topic: string, partitions: number): Promise<number> {
  const ends = await logEndOffsets(admin, new Map([[topic, Array.from({ length: partitions }, (_, i) => i)]]))
  let total = 0n
  for (const end of ends.values()) total += end
  return Number(total)
}

function latencyOf(values: Float64Array): Latency {
  const sorted = values.slice().sort()
  const at = (p: number): number =>
    sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
  let sum = 0
  for (const v of sorted) sum += v
  return { mean: sum / sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] ?? NaN }
}

function cpuDelta(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after - before
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

function renderTable(results: SizeResult[], durationMs: number): string {
  const header = [
    'N',
    'path',
    'calls/s',
    'records/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'worker CPU',
    'broker CPU',
    'load tool CPU'
  ]
  const pct = (ms: number | undefined, window: number): string =>
    ms === undefined ? '-' : `${Math.round((ms * 100) / window)}%`
  const rows: string[][] = []
  for (const r of results) {
    for (const path of ['http', 'raw'] as const) {
      const m = r[path]
      rows.push([
        String(r.size),
        path === 'http' ? 'HTTP (app)' : 'raw send',
        fmtInt(m.callsPerSec),
        fmtInt(m.recordsPerSec),
        fmt(m.latencyMs.p50, 2),
        fmt(m.latencyMs.p90, 2),
        fmt(m.latencyMs.p99, 2),
        pct(m.workerCpuMs, m.elapsedMs),
        pct(m.brokerCpuMs, m.elapsedMs),
        path === 'http' ? pct(r.http.loadToolCpuMs, r.http.elapsedMs) : '-'
      ])
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)]
  out.push(
    '',
    `calls = HTTP requests answered 2xx / raw awaited send() calls, in ${durationMs / 1000} s; records/s = calls/s x N; latency per call`,
    'worker CPU = the process doing the Kafka work (the app / the raw sender), broker CPU = the broker JVM, load tool = autocannon (this process); % of one core',
    '',
    `ratio HTTP / raw (records/s)  ${results.map((r) => `N=${r.size}: ${r.ratio.toFixed(2)}x`).join('   ')}`,
    `non-2xx answers, connection errors, timeouts: ${results.map((r) => `N=${r.size}: ${r.http.non2xx} / ${r.http.errors} / ${r.http.timeouts}`).join('   ')}`
  )
  return out.join('\n')
}

process.exit(await main())
