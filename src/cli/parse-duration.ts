import { usageError } from '../errors.ts'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses `500ms`, `5s`, `1.5m`, `2h`, or a bare number of milliseconds; a usage error otherwise. */
export function parseDuration(value: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim())
  if (!match) throw usageError(`${name} must be a duration like 500ms, 5s, 2m or 1h; got ${JSON.stringify(value)}`)
  const ms = Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1)
  if (!Number.isFinite(ms)) throw usageError(`${name} is too large; got ${JSON.stringify(value)}`)
  return Math.round(ms)
}
