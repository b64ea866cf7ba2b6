/**
 * Number formatting for decision reasons. Locale-free on purpose: reasons must read the
 * same on every machine (and tests look for the numbers in them).
 */

/** 1.5 s, 42 s, 5.5 min, 2.1 h; 'never' for an infinite time. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'never'
  const s = ms / 1000
  if (s < 10) return `${round(s, 1)} s`
  if (s < 120) return `${Math.round(s)} s`
  const min = s / 60
  if (min < 120) return `${min < 10 ? round(min, 1) : Math.round(min)} min`
  return `${round(min / 60, 1)} h`
}

/** Whole seconds, rounded: exact enough for ages and limits (121 s, not 2 min). */
export function formatSeconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`
}

/** Whole seconds, rounded up: what is left of a cooldown is never shown as 0 s. */
export function formatSecondsLeft(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`
}

/** Records per second: 12/s, 2.5/s, 0.25/s. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 10) return `${Math.round(perSecond)}/s`
  if (perSecond >= 1) return `${round(perSecond, 1)}/s`
  return `${round(perSecond, 2)}/s`
}

/** A per-record time: 850 ms, 1.5 s. */
export function formatWork(ms: number): string {
  return ms < 10_000 ? `${round(ms, ms < 10 ? 2 : 0)} ms` : formatDuration(ms)
}

/** "1 partition", "8 partitions". */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`
}

/** Lag and other record counts: whole numbers stay whole, fractions get 1 decimal. */
export function formatRecords(n: number): string {
  return Number.isInteger(n) ? String(n) : String(round(n, 1))
}

/** ISO time of an epoch ms, for "since when". */
export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString()
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals
  return Math.round(x * f) / f
}
