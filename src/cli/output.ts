/** Output helpers: Kafka-tool style aligned tables, or JSON with `--output json`. */
export type OutputFormat = 'text' | 'json'

export function parseOutputFormat(value: string): OutputFormat {
  if (value !== 'text' && value !== 'json') throw new Error(`--output must be text or json; got ${value}`)
  return value
}

/** Columns padded to the widest cell plus one space, as kafka-consumer-groups prints them. */
export function formatTable(headers: string[], rows: (string | number | bigint)[][]): string {
  const cells = rows.map((row) => row.map((c) => String(c)))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)))
  const line = (row: string[]): string =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join(' ')
      .trimEnd()
  return [line(headers), ...cells.map(line)].join('\n')
}

/** JSON with bigint offsets as numbers when they fit, strings otherwise. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_, v) => {
      if (typeof v === 'bigint')
        return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()
      if (v instanceof Map) return Object.fromEntries(v)
      return v
    },
    2
  )
}
