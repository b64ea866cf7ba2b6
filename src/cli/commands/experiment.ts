import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { lagscaleHome } from '../../broker/paths.ts'
import { SilentExit, usageError } from '../../errors.ts'
import { runExperiment } from '../../experiment/experiment.ts'
import { caseMatrix } from '../../experiment/matrix.ts'
import { killLiveWorkers } from '../../experiment/recorder.ts'
import { renderHtml } from '../../experiment/report-html.ts'
import { renderMarkdown } from '../../experiment/report-md.ts'
import { DEFAULT_WORK_UNIT_MS } from '../../experiment/timing.ts'
import { connectionFrom, withConnectionOptions } from '../connection-options.ts'
import type { CliIo } from '../io.ts'

interface ExperimentFlags {
  bootstrapServer?: string
  commandConfig?: string
  quick?: boolean
  large: boolean
  cases?: string
  workUnitMs: string
  outDir?: string
  json?: string
  report: boolean
}

/** The package's docs folder (src/cli/commands or dist/cli/commands -> ../../../docs). */
const DOCS_DIR = fileURLToPath(new URL('../../../docs/', import.meta.url))

export function registerExperimentCommand(program: Command, io: CliIo): void {
  const command = program
    .command('experiment')
    .description(
      "the seed's experiment on a real broker: partitions 1/8/16/32 x policies seed/keda/drain (+ in-partition parallelism), measured, bounded and simulated; writes docs/experiment.md and .html. Starts a broker of its own unless given --bootstrap-server"
    )
  withConnectionOptions(command)
    .option('--quick', 'a few cases only (about 2 minutes)')
    .option('--no-large', 'leave out the 2,000-record cases')
    .option('--cases <ids>', 'only these cases, comma-separated (e.g. p1-seed-100,p8-drain-100)')
    .option('--work-unit-ms <ms>', 'ms per unit of work (the seed: 1000)', String(DEFAULT_WORK_UNIT_MS))
    .option(
      '--out-dir <dir>',
      'where experiment.md and experiment.html go (default: the package docs folder; ./experiment-report with --quick or --cases)'
    )
    .option('--json <file>', 'also write the whole result (every series) as JSON')
    .option('--no-report', 'do not write experiment.md and experiment.html')
    .action(async (flags: ExperimentFlags) => {
      const workUnitMs = Number(flags.workUnitMs)
      if (!Number.isInteger(workUnitMs) || workUnitMs < 5 || workUnitMs > 1000) {
        throw usageError(`--work-unit-ms must be a whole number from 5 to 1000; got ${flags.workUnitMs}`)
      }
      const cases = caseMatrix({
        ...(flags.quick ? { quick: true } : {}),
        large: flags.large,
        ...(flags.cases ? { only: flags.cases.split(',').map((s) => s.trim()) } : {})
      })
      // Without --bootstrap-server (or its env variable) the experiment runs on a broker of its own.
      const given = flags.bootstrapServer ?? io.env['KAFKA_BOOTSTRAP_SERVERS']
      const connection = given ? connectionFrom(flags, io, 'lagscale-experiment') : undefined
      // A partial run (--quick, --cases) does not overwrite the committed report of the whole matrix.
      const partial = flags.quick === true || flags.cases !== undefined
      const outDir = resolve(flags.outDir ?? (partial ? 'experiment-report' : DOCS_DIR))

      const controller = new AbortController()
      const onSignal = (): void => {
        if (controller.signal.aborted) process.exit(130)
        io.stderr.write('\nstopping: the current case closes its workers, then the broker stops (again to force)\n')
        controller.abort()
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      // However the process ends, no worker of ours outlives it.
      process.once('exit', killLiveWorkers)
      const tty = (io.stderr as NodeJS.WriteStream).isTTY === true
      let transientShown = false
      let lastTransient = 0
      const say = (line: string, transient = false): void => {
        if (tty) {
          io.stderr.write(`${transientShown ? '\r\x1b[K' : ''}${line}${transient ? '' : '\n'}`)
          transientShown = transient
          return
        }
        // Not a terminal: progress lines at most every 5 s.
        if (transient && Date.now() - lastTransient < 5000) return
        if (transient) lastTransient = Date.now()
        io.stderr.write(`${line}\n`)
      }
      say(`lagscale experiment: ${cases.length} cases, work unit ${workUnitMs} ms`)
      try {
        const result = await runExperiment({
          ...(connection ? { connection } : {}),
          ...(flags.commandConfig ? { commandConfigPath: flags.commandConfig } : {}),
          home: lagscaleHome(io.env),
          workUnitMs,
          cases,
          onProgress: say,
          signal: controller.signal
        })
        if (controller.signal.aborted) throw new SilentExit(130)
        if (flags.json) {
          writeFileSync(flags.json, `${JSON.stringify(result)}\n`)
          say(`result written to ${flags.json}`)
        }
        if (flags.report) {
          mkdirSync(outDir, { recursive: true })
          writeFileSync(join(outDir, 'experiment.md'), renderMarkdown(result))
          writeFileSync(join(outDir, 'experiment.html'), renderHtml(result))
          say(`report written to ${join(outDir, 'experiment.md')} and experiment.html`)
        }
        const within = result.cases.filter((c) => Math.abs(c.predicted.drainErrorPct ?? Infinity) <= 10).length
        io.stdout.write(
          `${result.cases.length} cases in ${(result.wallMs / 60_000).toFixed(1)} min; simulator within 10 % in ${within} of ${result.cases.length}` +
            `${result.failures.length > 0 ? `; ${result.failures.length} failed: ${result.failures.map((f) => f.id).join(', ')}` : ''}\n`
        )
        if (result.failures.length > 0) throw new SilentExit(1)
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    })
}
