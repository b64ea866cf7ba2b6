/**
 * Small inline-SVG charts for the HTML report: step/line series over time and horizontal
 * stacked bars. No dependencies, no script: the report is one self-contained file.
 */

export interface LineSeries {
  label: string
  color: string
  /** [t ms, value], t ascending. */
  points: readonly (readonly [number, number])[]
  /** Each value holds until the next point (counts, lag) instead of a straight line between points. */
  step?: boolean
  dash?: string
  width?: number
  opacity?: number
  /** Leave out of the legend (many partitions). */
  noLegend?: boolean
  /** A step series holds its last value to the right edge (default true). */
  extend?: boolean
}

export interface LineChartOptions {
  title: string
  series: LineSeries[]
  xMaxMs: number
  yMax?: number
  yLabel: string
  width?: number
  height?: number
  /** Vertical markers: [t ms, label, color]. */
  marks?: readonly (readonly [number, string, string])[]
}

const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="11"'

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** 1, 2 or 5 x 10^n steps giving about `count` ticks up to max. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0]
  const raw = max / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const ticks: number[] = []
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)))
  return ticks
}

/** At most `buckets` points of a step series: the last value of each bucket of time (and the first point). */
export function downsampleStep(
  points: readonly (readonly [number, number])[],
  xMax: number,
  buckets = 400
): [number, number][] {
  if (points.length <= buckets) return points.map(([t, v]) => [t, v])
  const span = xMax / buckets
  const out: [number, number][] = []
  let bucket = -1
  for (const [t, v] of points) {
    const b = Math.floor(t / span)
    if (b === bucket && out.length > 0) out[out.length - 1] = [out.at(-1)![0], v]
    else {
      out.push([t, v])
      bucket = b
    }
  }
  return out
}

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 460
  const height = o.height ?? 220
  const m = { left: 44, right: 12, top: 26, bottom: 34 }
  const legendItems = o.series.filter((s) => !s.noLegend)
  const legendRows = Math.ceil(legendItems.length / 3)
  const h = height + 6 + legendRows * 14
  const pw = width - m.left - m.right
  const ph = height - m.top - m.bottom
  const xMax = Math.max(1, o.xMaxMs)
  const yMax = Math.max(1, o.yMax ?? Math.max(1, ...o.series.flatMap((s) => s.points.map((p) => p[1]))))
  const yTicks = niceTicks(yMax, 4)
  const yTop = Math.max(yMax, yTicks.at(-1)!)
  const x = (t: number) => m.left + (Math.min(Math.max(t, 0), xMax) / xMax) * pw
  const y = (v: number) => m.top + ph - (v / yTop) * ph
  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" ${FONT}>`
  )
  parts.push(
    `<text x="${m.left}" y="14" font-weight="600">${escapeXml(o.title)}<tspan font-weight="400" fill="#555"> (${escapeXml(o.yLabel)})</tspan></text>`
  )
  for (const v of yTicks) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`,
      `<text x="${m.left - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmtNum(v)}</text>`
    )
  }
  for (const s of niceTicks(xMax / 1000, 6)) {
    const px = x(s * 1000)
    parts.push(
      `<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#888"/>`,
      `<text x="${px.toFixed(1)}" y="${m.top + ph + 15}" text-anchor="middle" fill="#555">${fmtNum(s)}</text>`
    )
  }
  parts.push(
    `<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#888"/>`,
    `<text x="${m.left + pw}" y="${m.top + ph + 28}" text-anchor="end" fill="#555">seconds</text>`
  )
  ;(o.marks ?? []).forEach(([t, label, color], i) => {
    const px = x(t).toFixed(1)
    const right = x(t) > m.left + pw * 0.75
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${m.top}" y2="${m.top + ph}" stroke="${color}" stroke-dasharray="2 3"/>`,
      `<text x="${px}" y="${m.top + 10 + i * 12}" fill="${color}" text-anchor="${right ? 'end' : 'start'}" dx="${right ? -3 : 3}">${escapeXml(label)}</text>`
    )
  })
  for (const s of o.series) {
    if (s.points.length === 0) continue
    let d = ''
    let prevY: number | undefined
    for (const [t, v] of s.points) {
      if (t > xMax) {
        if (s.step && prevY !== undefined) d += `H${x(xMax).toFixed(1)}`
        prevY = undefined
        break
      }
      const px = x(t).toFixed(1)
      const py = y(v).toFixed(1)
      if (d === '') d = `M${px},${py}`
      else if (s.step) d += `H${px}V${py}`
      else d += `L${px},${py}`
      prevY = v
    }
    if (s.step && prevY !== undefined && s.extend !== false) d += `H${x(xMax).toFixed(1)}`
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.5}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : ''}><title>${escapeXml(s.label)}</title></path>`
    )
  }
  legendItems.forEach((s, i) => {
    const lx = m.left + (i % 3) * Math.floor(pw / 3)
    const ly = height + 6 + Math.floor(i / 3) * 14
    parts.push(
      `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="${Math.max(2, s.width ?? 1.5)}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${lx + 20}" y="${ly}" fill="#333">${escapeXml(s.label)}</text>`
    )
  })
  parts.push('</svg>')
  return parts.join('')
}

export interface BarRow {
  label: string
  /** Stacked segments, left to right. */
  segments: { value: number; color: string; label: string }[]
  note?: string
}

/** Horizontal stacked bars, one row per item (e.g. busy / idle / starting per consumer), in seconds. */
export function stackedBars(o: {
  title: string
  rows: BarRow[]
  unit: string
  width?: number
  legend: { label: string; color: string }[]
}): string {
  const width = o.width ?? 460
  const rowH = 16
  const m = { left: 78, right: 70, top: 26, bottom: 40 }
  const height = m.top + o.rows.length * rowH + m.bottom
  const pw = width - m.left - m.right
  const max = Math.max(1, ...o.rows.map((r) => r.segments.reduce((s, x) => s + x.value, 0)))
  const ticks = niceTicks(max, 4)
  const top = Math.max(max, ticks.at(-1)!)
  const x = (v: number) => m.left + (v / top) * pw
  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`
  )
  parts.push(`<text x="${m.left}" y="14" font-weight="600">${escapeXml(o.title)}</text>`)
  const axisY = m.top + o.rows.length * rowH + 2
  for (const v of ticks) {
    parts.push(
      `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${m.top - 2}" y2="${axisY}" stroke="#e5e7eb"/>`,
      `<text x="${x(v).toFixed(1)}" y="${axisY + 13}" text-anchor="middle" fill="#555">${fmtNum(v)}</text>`
    )
  }
  parts.push(`<text x="${m.left + pw}" y="${axisY + 26}" text-anchor="end" fill="#555">${escapeXml(o.unit)}</text>`)
  o.rows.forEach((r, i) => {
    const ry = m.top + i * rowH
    parts.push(`<text x="${m.left - 4}" y="${ry + 11}" text-anchor="end" fill="#333">${escapeXml(r.label)}</text>`)
    let acc = 0
    for (const s of r.segments) {
      if (s.value <= 0) continue
      parts.push(
        `<rect x="${x(acc).toFixed(1)}" y="${ry + 2}" width="${Math.max(0.5, x(acc + s.value) - x(acc)).toFixed(1)}" height="${rowH - 4}" fill="${s.color}"><title>${escapeXml(`${r.label}: ${s.label} ${fmtNum(s.value)} ${o.unit}`)}</title></rect>`
      )
      acc += s.value
    }
    if (r.note)
      parts.push(`<text x="${(x(acc) + 4).toFixed(1)}" y="${ry + 11}" fill="#555">${escapeXml(r.note)}</text>`)
  })
  o.legend.forEach((l, i) => {
    const lx = m.left + i * 100
    const ly = height - 6
    parts.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${l.color}"/>`,
      `<text x="${lx + 14}" y="${ly}" fill="#333">${escapeXml(l.label)}</text>`
    )
  })
  parts.push('</svg>')
  return parts.join('')
}

function fmtNum(v: number): string {
  if (Number.isInteger(v)) return String(v)
  return v >= 10 ? v.toFixed(0) : v.toFixed(1)
}

/** A color per partition: hues spread around the wheel. */
export function partitionColor(i: number, n: number): string {
  const hue = Math.round((i * 360) / Math.max(1, n) + 200) % 360
  return `hsl(${hue} 65% 45%)`
}

/** Horizontal grouped bars: per row, one thin bar per series (e.g. measured, simulated, bound). */
export function groupedBars(o: {
  title: string
  rows: { label: string; values: (number | undefined)[] }[]
  series: { label: string; color: string }[]
  unit: string
  width?: number
}): string {
  const width = o.width ?? 700
  const barH = 6
  const rowH = o.series.length * barH + 8
  const m = { left: 130, right: 60, top: 26, bottom: 40 }
  const height = m.top + o.rows.length * rowH + m.bottom
  const pw = width - m.left - m.right
  const max = Math.max(1, ...o.rows.flatMap((r) => r.values.map((v) => v ?? 0)))
  const ticks = niceTicks(max, 6)
  const top = Math.max(max, ticks.at(-1)!)
  const x = (v: number) => m.left + (v / top) * pw
  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`
  )
  parts.push(`<text x="${m.left}" y="14" font-weight="600">${escapeXml(o.title)}</text>`)
  const axisY = m.top + o.rows.length * rowH
  for (const v of ticks) {
    parts.push(
      `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${m.top - 2}" y2="${axisY}" stroke="#e5e7eb"/>`,
      `<text x="${x(v).toFixed(1)}" y="${axisY + 13}" text-anchor="middle" fill="#555">${fmtNum(v)}</text>`
    )
  }
  parts.push(`<text x="${m.left + pw}" y="${axisY + 26}" text-anchor="end" fill="#555">${escapeXml(o.unit)}</text>`)
  o.rows.forEach((r, i) => {
    const ry = m.top + i * rowH
    parts.push(
      `<text x="${m.left - 4}" y="${ry + rowH / 2 + 3}" text-anchor="end" fill="#333">${escapeXml(r.label)}</text>`
    )
    r.values.forEach((v, j) => {
      if (v === undefined) return
      const s = o.series[j]!
      parts.push(
        `<rect x="${m.left}" y="${ry + 4 + j * barH}" width="${Math.max(0.5, x(v) - m.left).toFixed(1)}" height="${barH - 1}" fill="${s.color}"><title>${escapeXml(`${r.label}: ${s.label} ${fmtNum(v)} ${o.unit}`)}</title></rect>`
      )
    })
  })
  o.series.forEach((s, i) => {
    const lx = m.left + i * 150
    const ly = height - 6
    parts.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${lx + 14}" y="${ly}" fill="#333">${escapeXml(s.label)}</text>`
    )
  })
  parts.push('</svg>')
  return parts.join('')
}
