/**
 * zod pieces shared by the config schemas (consumer, producer, autoscaler, policy options):
 * each error message names the bound or the rule, so a flag, env variable or config key that
 * fails says what it takes.
 */
import { z } from 'zod'

/** An integer from min to max, given as a number or as a numeric string (flags, env variables). */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })

/** Kafka's topic name rule: 1-249 of [a-zA-Z0-9._-], not "." or ".." (as kafka/topics.ts checks it). */
export const topicName = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(249, { error: 'must be at most 249 characters' })
  .regex(/^[a-zA-Z0-9._-]+$/, { error: "use only letters, digits, '.', '_' and '-'" })
  .refine((t) => t !== '.' && t !== '..', { error: 'cannot be "." or ".."' })

/**
 * `; got <value>` for the value at `path` in what the user gave, for an error message; empty
 * when nothing was given there (a missing key) or the value is an object (too long to repeat).
 */
export function givenValue(input: unknown, path: readonly PropertyKey[]): string {
  let value: unknown = input
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !(key in value)) return ''
    value = (value as Record<PropertyKey, unknown>)[key]
  }
  if (path.length === 0 || (value !== null && typeof value === 'object')) return ''
  return `; got ${JSON.stringify(value)}`
}
