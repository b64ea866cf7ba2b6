import type { Command } from 'commander'
import { createLagMonitor } from '../../autoscaler/monitor.ts'
import type { Observation } from '../../autoscaler/types.ts'
import { DEFAULT_GROUP } from '../../consumer/config.ts'
import { usageError } from '../../errors.ts'
import { type ConnectionFlags, connectionFrom, withConnectionOptions } from '../connection-options.ts'
import { type CliIo, writeLine } from '../io.ts'
import { formatTable, parseOutputFormat } from '../output.ts'
import { parseDuration } from '../parse-duration.ts'

/** Seconds with one decimal below a minute, then m/s: what a person reads at a glance. */
export function formatAge(ms: number): string {
  if (ms <= 0) return '0s'
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const m = Math.floor(ms / 60_000)
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`
}

const rate = (r: number | undefined): string => (r === undefined ? '-' : r.toFixed(1))

/** Per-partition lag, as `kafka-consumer-groups --describe` prints it, plus rates and time lag. */
export function formatObservation(o: Observation): string {
  const rows = o.partitions.map((p) => [
    p.topic,
    p.partition,
    p.committedOffset ?? '-',
    p.logEndOffset,
    p.lagFrom === 'committed' ? p.lag : `${p.lag} (${p.lagFrom})`,
    formatAge(p.timeLagMs),
    rate(p.consumeRate),
    rate(p.produceRate),
    p.owner ?? '-'
  ])
  const lines = [
    formatTable(
      [
        'TOPIC',
        'PARTITION',
        'CURRENT-OFFSET',
        'LOG-END-OFFSET',
        'LAG',
        'TIME-LAG',
        'CONSUMED/S',
        'PRODUCED/S',
        'CLIENT-ID'
      ],
      rows
    ),
    '',
    `SumOffsetLag: ${o.sumOffsetLag}  MaxOffsetLag: ${o.maxOffsetLag}  EstimatedMaxTimeLag: ${formatAge(o.maxTimeLagMs)}  ` +
      `State: ${o.groupState}  Members: ${o.members.length}`
  ]
  if (o.stale) lines.push(`STALE: ${o.error ?? 'no fresh data'} (showing the last good data)`)
  if (o.partitions.length === 0 && !o.stale) lines.unshift(`No partitions: the group '${o.group}' has no topics yet.`)
  return lines.join('\n')
}

const toJsonLine = (o: Observation): string => JSON.stringify(o)

export function registerLagCommand(program: Command, io: CliIo): void {
  withConnectionOptions(
    program
      .command('lag')
      .description("a consumer group's lag per partition: offsets, time lag, rates (--watch for a live table)")
  )
    .option('--group <id>', `consumer group (env GROUP_ID; default ${DEFAULT_GROUP})`)
    .option('--topic <name...>', 'topics to show (default: the topics the group consumes)')
    .option('--reset-policy <earliest|latest>', 'where a partition without a commit starts', 'earliest')
    .option('--watch', 'refresh every --interval until Ctrl-C')
    .option('--interval <duration>', 'refresh interval with --watch, e.g. 2s, 500ms', '2s')
    .option('--output <format>', 'text or json (one JSON object per line with --watch)', 'text')
    .action(
      async (
        opts: ConnectionFlags & {
          group?: string
          topic?: string[]
          resetPolicy: string
          watch?: boolean
          interval: string
          output: string
        }
      ) => {
        const format = parseOutputFormat(opts.output)
        const group = opts.group ?? io.env['GROUP_ID'] ?? DEFAULT_GROUP
        if (opts.resetPolicy !== 'earliest' && opts.resetPolicy !== 'latest') {
          throw usageError(`--reset-policy must be earliest or latest; got ${opts.resetPolicy}`)
        }
        const intervalMs = parseDuration(opts.interval, '--interval')
        const connection = connectionFrom(opts, io, 'lagscale-lag')
        const monitor = createLagMonitor(connection, {
          group,
          topics: opts.topic ?? [],
          resetPolicy: opts.resetPolicy,
          timeoutMs: Math.max(5000, connection.requestTimeoutMs),
          timeLag: true
        })
        const show = (o: Observation, redraw: boolean): void => {
          if (format === 'json') {
            writeLine(io.stdout, toJsonLine(o))
            return
          }
          // On a terminal, redraw in place; piped, print one block after another.
          if (redraw) io.stdout.write('\x1b[H\x1b[2J')
          writeLine(io.stdout, `${new Date(o.at).toISOString()}  group ${o.group}`)
          writeLine(io.stdout, formatObservation(o))
          if (!redraw && opts.watch) writeLine(io.stdout)
        }
        try {
          if (!opts.watch) {
            const o = await monitor.observe()
            if (o.stale) throw new Error(o.error ?? 'cannot read the group')
            show(o, false)
            return
          }
          const tty = (io.stdout as NodeJS.WriteStream).isTTY === true && format === 'text'
          await watchLoop(intervalMs, async () => show(await monitor.observe(), tty))
        } finally {
          await monitor.close()
        }
      }
    )
}

/** Runs `step` every `intervalMs` until SIGINT/SIGTERM. */
async function watchLoop(intervalMs: number, step: () => Promise<void>): Promise<void> {
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    while (!stop.signal.aborted) {
      await step()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs)
        stop.signal.addEventListener('abort', () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
