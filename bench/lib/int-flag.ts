/**
 * A whole-number benchmark flag: its value, or `fallback` when absent. Accepts 1e6 and
 * 1_000_000 as well as plain digits; anything else, or less than `min`, is an error naming the flag.
 */
export function int(flag: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw.replaceAll('_', ''))
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${flag} must be an integer >= ${min}; got ${raw}`)
  return value
}
