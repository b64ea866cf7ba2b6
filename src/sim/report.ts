/** A run's result as text (summary, sparklines, consumers, decisions) or JSON. */
import { count, formatDuration } from '../autoscaler/policy/format.ts'
import { formatTable } from '../cli/output.ts'
import type { SimResult } from './types.ts'

const BARS = ' ▁▂▃▄▅▆▇█'

/**
 * One character per value, scaled to `max` (default: the largest value): a blank for 0, at
 * least ▁ for anything above 0, so a single idle consumer still shows.
 */
export function sparkline(values: readonly number[], max = Math.max(0, ...values)): string {
  return values
    .map((v) => {
      if (v <= 0 || max <= 0) return BARS[0]
      return BARS[Math.max(1, Math.min(8, Math.round((v / max) * 8)))]
    })
    .join('')
}

/** The largest value of a step series (t ascending, each value holds until the next) in each of `columns` equal spans of [0, end]. */
export function columnsOf(points: readonly { t: number; v: number }[], end: number, columns: number): number[] {
  const out: number[] = []
  const span = end / columns
  let i = 0
  for (let col = 0; col < columns; col++) {
    const from = col * span
    const to = (col + 1) * span
    while (i + 1 < points.length && points[i + 1]!.t <= from) i++
    let value = points[i] && points[i]!.t <= from ? points[i]!.v : 0
    for (let j = i + 1; j < points.length && points[j]!.t < to; j++) value = Math.max(value, points[j]!.v)
    out.push(value)
  }
  return out
}

const ms = (t: number | undefined): string => (t === undefined ? '-' : formatDuration(t))

/** A simulated instant as a clock since the start: 0:00, 1:01.5, 1:02:03 (precise where formatDuration rounds). */
export function clock(t: number): string {
  const tenths = Math.round(t / 100)
  const fraction = tenths % 10 === 0 ? '' : `.${tenths % 10}`
  const seconds = Math.floor(tenths / 10)
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = String(seconds % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}${fraction}` : `${m}:${s}${fraction}`
}

const at = (t: number | undefined): string => (t === undefined ? '-' : clock(t))

/**
 * The decision log for reading: every change; of a run of holds, the first and the last (the
 * log keeps a hold whenever its reason changes, which with numbers in the reason is every tick).
 */
function decisionLines(r: SimResult): string[] {
  const lines: string[] = []
  const width = Math.max(0, ...r.decisions.map((d) => clock(d.t).length))
  const line = (d: SimResult['decisions'][number]) => {
    const head = d.action === 'hold' ? `hold at ${d.desired}` : `${d.action} ${d.from} -> ${d.desired}`
    return `${clock(d.t).padStart(width)}  ${head}: ${d.reason}`
  }
  let i = 0
  while (i < r.decisions.length) {
    const d = r.decisions[i]!
    if (d.action !== 'hold') {
      lines.push(line(d))
      i++
      continue
    }
    let j = i
    while (j + 1 < r.decisions.length && r.decisions[j + 1]!.action === 'hold') j++
    lines.push(line(d))
    if (j - i > 1) lines.push(`${' '.repeat(width)}  ... ${count(j - i - 1, 'more hold')} ...`)
    if (j > i) lines.push(line(r.decisions[j]!))
    i = j + 1
  }
  return lines
}

export function formatSimText(r: SimResult): string {
  const o = r.options
  const lines: string[] = []
  const values = o.values ? `given values` : `random 0..${o.valueMax}`
  const rate = o.rate > 0 ? ` + ${o.rate}/s for ${formatDuration(o.rateDurationMs)}` : ''
  lines.push(
    `lagscale simulate: ${count(r.records, 'record')} (${values}${rate}, x ${o.workUnitMs} ms, seed ${o.seed}) on ${count(o.partitions, 'partition')}`,
    `  policy ${o.policy}, ${o.min}..${o.max} consumers, concurrency ${o.concurrency} (ordering ${o.ordering}), assignor ${o.assignor}`,
    `  start-up ${formatDuration(o.startupMs)}, rebalance pause ${formatDuration(o.rebalancePauseMs)}, interval ${formatDuration(o.intervalMs)}`,
    ''
  )
  const idle = r.consumers.filter((c) => c.joinedMs !== undefined && c.records === 0).length
  const ended =
    r.endReason === 'max-duration'
      ? `${clock(r.endMs)}: max duration, ${r.drainMs === undefined ? 'not drained' : 'the pool not back at min'}`
      : r.endReason === 'settle-timeout'
        ? `${clock(r.endMs)}: drained, the pool not back at min ${o.min} within ${formatDuration(o.settleMs)}`
        : `${clock(r.endMs)}: drained, the pool back at min ${o.min}`
  const summary: [string, string][] = [
    [
      'drain time',
      r.drainMs === undefined
        ? r.records === 0
          ? 'no records'
          : 'not drained'
        : `${formatDuration(r.drainMs)} (first record at ${at(r.firstProducedMs)}, lag 0 at ${at(r.drainedAtMs)})`
    ],
    [
      'consumers',
      `peak ${r.peak.desired} desired, ${r.peak.running} running; ${r.consumers.length} started, ${idle} never got a record`
    ],
    ['cost', `${round1(r.consumerSeconds)} consumer-seconds (${formatDuration(r.consumerSeconds * 1000)})`],
    ['rebalances', `${r.rebalances.count}, ${formatDuration(r.rebalances.pauseMs)} paused`],
    ['work', `${formatDuration(r.workMs)} of handler time`],
    ['run', `ended at ${ended}, ${r.ticks} decisions`]
  ]
  const width = Math.max(...summary.map(([k]) => k.length)) + 2
  for (const [k, v] of summary) lines.push(`${k.padEnd(width)}${v}`)

  if (r.endMs > 0) {
    const columns = 60
    const desired = columnsOf(
      r.series.map((p) => ({ t: p.t, v: p.desired })),
      r.endMs,
      columns
    )
    const running = columnsOf(
      r.series.map((p) => ({ t: p.t, v: p.running })),
      r.endMs,
      columns
    )
    const lag = columnsOf(
      r.lag.map((s) => ({ t: s.t, v: s.sumLag })),
      r.endMs,
      columns
    )
    const top = Math.max(r.peak.desired, r.peak.running)
    const maxLag = Math.max(0, ...lag)
    const label = (name: string, n: number) => `${name.padEnd(8)}${String(n).padStart(6)} |`
    lines.push(
      '',
      `over time: 0 .. ${formatDuration(r.endMs)}, ${formatDuration(r.endMs / columns)} a column, highest value per column`,
      `${label('desired', top)}${sparkline(desired, top)}|`,
      `${label('running', top)}${sparkline(running, top)}|`,
      `${label('lag', maxLag)}${sparkline(lag, maxLag)}|`
    )
  }

  lines.push(
    '',
    formatTable(
      ['CONSUMER', 'REQUESTED', 'JOINED', 'LEFT', 'RECORDS', 'BUSY', 'IDLE', 'LIFETIME'],
      r.consumers.map((c) => [
        c.id,
        at(c.requestedMs),
        at(c.joinedMs),
        at(c.leftMs),
        c.records,
        ms(c.busyMs),
        ms(c.idleMs),
        ms(c.lifetimeMs)
      ])
    )
  )

  lines.push(
    '',
    `decisions (${r.ticks} taken; every change and the first and last of each run of holds; --output json has the log)`,
    ...decisionLines(r)
  )
  return `${lines.join('\n')}\n`
}

export function formatSimJson(r: SimResult): string {
  return `${JSON.stringify(r, null, 2)}\n`
}

function round1(x: number): number {
  return Math.round(x * 10) / 10
}
