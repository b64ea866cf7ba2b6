/**
 * The whole experiment: a broker (ours, or the one given), the calibration once, then every
 * case one after the other (a failed case is reported and the rest still run).
 */
import { cpus, loadavg, totalmem } from 'node:os'
import { KAFKA_VERSION } from '../broker/paths.ts'
import { startThrowawayBroker } from '../broker/throwaway-broker.ts'
import { type ConnectionConfig, resolveConnectionConfig } from '../kafka/connection-config.ts'
import { type CalibrationRun, calibrate } from './calibrate.ts'
import { runCase } from './run-case.ts'
import { experimentTiming } from './timing.ts'
import type { CaseResult, CaseSpec, ExperimentTiming } from './types.ts'

export interface ExperimentOptions {
  /** A running cluster; without it the experiment starts a broker of its own and stops it at the end. */
  connection?: ConnectionConfig
  commandConfigPath?: string
  /** $LAGSCALE_HOME (Kafka jars, broker folders). */
  home: string
  workUnitMs: number
  cases: CaseSpec[]
  /** Status lines; `transient` ones may be overwritten by the next (a terminal's progress line). */
  onProgress?: (line: string, transient?: boolean) => void
  signal?: AbortSignal
}

export interface ExperimentResult {
  startedAt: string
  finishedAt: string
  workUnitMs: number
  timing: ExperimentTiming
  calibration: CalibrationRun
  machine: { cpus: number; cpuModel: string; memoryGb: number; loadAverageStart: number[]; loadAverageEnd: number[] }
  broker: { bootstrap: string; own: boolean; kafkaVersion?: string }
  cases: CaseResult[]
  failures: { id: string; error: string }[]
  wallMs: number
}

export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const started = performance.now()
  const startedAt = new Date().toISOString()
  const loadAverageStart = loadavg().map((x) => Math.round(x * 100) / 100)
  const say = options.onProgress ?? (() => {})
  let own: Awaited<ReturnType<typeof startThrowawayBroker>> | undefined
  try {
    let connection = options.connection
    if (!connection) {
      say('starting a Kafka broker of our own...')
      own = await startThrowawayBroker(options.home, {
        heapMb: 512,
        tempPrefix: 'lagscale-experiment-',
        onProgress: (m) => say(`  ${m}`, true)
      })
      say(`Kafka ${own.broker.kafkaVersion} at ${own.broker.bootstrap} (pid ${own.broker.pid})`)
      connection = resolveConnectionConfig({ bootstrapServer: own.broker.bootstrap, env: {} })
    }
    const common = {
      connection,
      ...(options.commandConfigPath ? { commandConfigPath: options.commandConfigPath } : {}),
      ...(options.signal ? { signal: options.signal } : {})
    }
    say(`calibration: what a scale-out costs here (work unit ${options.workUnitMs} ms)`)
    const calibration = await calibrate({
      ...common,
      workUnitMs: options.workUnitMs,
      onProgress: (m) => say(`  ${m}`, true)
    })
    const c = calibration.calibration
    say(
      `  start-up ${c.startupMs} ms + rebalance pause ${c.rebalancePauseMs} ms (1 -> ${c.workers} took ${calibration.scaleOutMs} ms; 1 -> 2 took ${c.singleStartMs} ms; stop ${c.stopMs} ms)`
    )
    const timing = experimentTiming(options.workUnitMs, c.rebalancePauseMs)
    const cases: CaseResult[] = []
    const failures: { id: string; error: string }[] = []
    for (const [i, spec] of options.cases.entries()) {
      if (options.signal?.aborted) break
      const label = `[${String(i + 1).padStart(2)}/${options.cases.length}] ${spec.id}`
      say(`${label}: ${describeSpec(spec)}`)
      try {
        const result = await runCase({
          ...common,
          spec,
          timing,
          calibration: c,
          onProgress: (m) => say(`${label}: ${m}`, true)
        })
        cases.push(result)
        say(`${label}: ${summarize(result)}`)
      } catch (err) {
        if (options.signal?.aborted) break
        const message = (err as Error).message
        failures.push({ id: spec.id, error: message })
        say(`${label}: FAILED: ${message}`)
      }
    }
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      workUnitMs: options.workUnitMs,
      timing,
      calibration,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(totalmem() / 2 ** 30),
        loadAverageStart,
        loadAverageEnd: loadavg().map((x) => Math.round(x * 100) / 100)
      },
      broker: own
        ? { bootstrap: own.broker.bootstrap, own: true, kafkaVersion: own.broker.kafkaVersion }
        : { bootstrap: connection.bootstrapServers.join(','), own: false, kafkaVersion: KAFKA_VERSION },
      cases,
      failures,
      wallMs: Math.round(performance.now() - started)
    }
  } finally {
    if (own) {
      say('stopping the broker...')
      await own.stop()
    }
  }
}

export function describeSpec(spec: CaseSpec): string {
  const parallel = spec.concurrency > 1 ? `, concurrency ${spec.concurrency} ${spec.ordering}` : ''
  return `${spec.records} records on ${spec.partitions} partition${spec.partitions === 1 ? '' : 's'}, policy ${spec.policy}${parallel}`
}

const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`)

export function summarize(r: CaseResult): string {
  const m = r.measured
  const p = r.predicted
  const err =
    p.drainErrorPct === undefined ? '' : ` (${p.drainErrorPct >= 0 ? '+' : ''}${p.drainErrorPct.toFixed(0)} %)`
  return (
    `drained in ${s(m.drainMs)} (bound ${s(r.bound.ms)}, simulator ${s(p.drainMs)}${err}); ` +
    `peak ${m.peak.running} consumers, ${m.consumerSeconds.toFixed(0)} consumer-s (sim ${p.consumerSeconds.toFixed(0)}), ` +
    `${m.rebalances.count} rebalances; ${(r.wallMs / 1000).toFixed(0)} s`
  )
}
