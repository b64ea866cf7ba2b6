/**
 * The rule of S17: the `message` of POST /msk-producer-send is a positive integer
 * written in decimal digits, nothing else. Pure functions, no I/O.
 */

export const INVALID_MESSAGE = 'Invalid message value. Only positive integers are allowed.'

export function tooManyMessages(max: number): string {
  return `Message value too large. At most ${max} messages per request are allowed.`
}

export type CountResult =
  | { ok: true; count: number }
  | { ok: false; reason: 'invalid'; error: string }
  | { ok: false; reason: 'too-large'; error: string }

/**
 * Parses the `message` value: ASCII digits only (no sign, '+', '.', exponent or
 * whitespace), value at least 1. Leading zeros are allowed ("007" is 7, as Java's
 * Integer.parseInt reads it). Above `max` it is a positive integer, but too large.
 */
export function parseMessageCount(value: unknown, max: number): CountResult {
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value))
    return { ok: false, reason: 'invalid', error: INVALID_MESSAGE }
  const digits = value.replace(/^0+/, '')
  if (digits === '') return { ok: false, reason: 'invalid', error: INVALID_MESSAGE }
  // More digits than any safe integer has: certainly above the cap, and not worth converting.
  if (digits.length > 15 || Number(digits) > max) return { ok: false, reason: 'too-large', error: tooManyMessages(max) }
  return { ok: true, count: Number(digits) }
}

/**
 * The `message` field of an application/x-www-form-urlencoded body, as a browser's
 * form sends it. Exactly one `message` field: none or several give undefined. Other
 * fields (a named submit button, say) are ignored.
 */
export function messageFromForm(body: string): string | undefined {
  const values = new URLSearchParams(body).getAll('message')
  return values.length === 1 ? values[0] : undefined
}

/** JSON's own whitespace; other Unicode spaces are not JSON. */
const JSON_WS = '[ \\t\\n\\r]*'
const JSON_MESSAGE = new RegExp(
  `^${JSON_WS}\\{${JSON_WS}"message"${JSON_WS}:${JSON_WS}("[^"\\\\]*"|[^\\s,{}\\[\\]"]+)${JSON_WS}\\}${JSON_WS}$`
)

/**
 * The `message` of a JSON body that is exactly `{"message": N}` or `{"message": "N"}`,
 * read from the text itself: JSON.parse would turn 1e3 and 5.0 into integers and keep
 * the last of duplicated keys. Anything else (other keys, arrays, escapes) gives undefined.
 */
export function messageFromJson(body: string): string | undefined {
  const match = JSON_MESSAGE.exec(body)
  if (!match) return undefined
  const token = match[1]!
  return token.startsWith('"') ? token.slice(1, -1) : token
}
