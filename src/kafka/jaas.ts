/**
 * Parser for the `sasl.jaas.config` value as Kafka writes it:
 *   org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cret";
 * Returns the login module class and its options. Follows Kafka's JaasConfig
 * (a java.io.StreamTokenizer): values in double or single quotes with Java
 * escapes (\" \\ \n \t \r \b \f \a \v, octal \101), `//` and `/* *\/` comments,
 * a case-insensitive control flag. Unquoted values are plain words as in Kafka
 * (letters, digits, `. _ - $`), though lagscale also takes them starting with a
 * digit, where Kafka would see a number and fail. Errors never echo the text,
 * only positions, because it holds passwords and a misquoted value can spill
 * into the place of an option name.
 */
export interface JaasConfig {
  loginModule: string
  /** Lower case: required, requisite, sufficient or optional. */
  controlFlag: string
  options: Record<string, string>
}

export class JaasParseError extends Error {}

const CONTROL_FLAGS = ['required', 'requisite', 'sufficient', 'optional']

/** StreamTokenizer's escapes in quoted strings; any other escaped character is itself. */
const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

const isOctal = (c: string | undefined): c is string => c !== undefined && c >= '0' && c <= '7'

export function parseJaasConfig(text: string): JaasConfig {
  const src = text
  let pos = 0

  const fail = (message: string): never => {
    throw new JaasParseError(message)
  }
  const skipWsAndComments = (): void => {
    for (;;) {
      while (pos < src.length && src.charCodeAt(pos) <= 32) pos++
      if (src.startsWith('//', pos)) {
        while (pos < src.length && src[pos] !== '\n' && src[pos] !== '\r') pos++
      } else if (src.startsWith('/*', pos)) {
        const end = src.indexOf('*/', pos + 2)
        if (end < 0) fail(`sasl.jaas.config: unterminated /* comment at position ${pos}`)
        pos = end + 2
      } else {
        return
      }
    }
  }
  const readWord = (): string => {
    const start = pos
    while (pos < src.length && /[A-Za-z0-9_.$-]/.test(src[pos]!)) pos++
    return src.slice(start, pos)
  }
  const readQuoted = (start: number): string => {
    const quote = src[pos++]
    let out = ''
    for (;;) {
      const c = src[pos++]
      if (c === undefined || c === '\n' || c === '\r')
        return fail(`sasl.jaas.config: unterminated quoted value at position ${start}`)
      if (c === quote) return out
      if (c !== '\\') {
        out += c
        continue
      }
      const e = src[pos++]
      if (e === undefined) return fail(`sasl.jaas.config: unterminated quoted value at position ${start}`)
      if (isOctal(e)) {
        // Up to three octal digits, at most \377.
        let code = Number(e)
        if (isOctal(src[pos])) {
          code = code * 8 + Number(src[pos++])
          if (e <= '3' && isOctal(src[pos])) code = code * 8 + Number(src[pos++])
        }
        out += String.fromCharCode(code)
      } else {
        out += ESCAPES[e] ?? e
      }
    }
  }

  skipWsAndComments()
  const loginModule = readWord()
  if (!loginModule) fail('sasl.jaas.config must start with a login module class name')
  skipWsAndComments()
  const controlFlag = readWord().toLowerCase()
  if (!CONTROL_FLAGS.includes(controlFlag)) {
    fail(
      'sasl.jaas.config: expected a control flag (required, requisite, sufficient, optional) after the login module class name'
    )
  }

  const options: Record<string, string> = {}
  for (;;) {
    skipWsAndComments()
    if (pos >= src.length) fail("sasl.jaas.config must end with ';'")
    if (src[pos] === ';') {
      pos++
      break
    }
    const start = pos
    const name = readWord()
    if (!name) fail(`sasl.jaas.config: unexpected character at position ${pos}`)
    skipWsAndComments()
    if (src[pos] !== '=') fail(`sasl.jaas.config: expected name="value" at position ${start}`)
    pos++
    skipWsAndComments()
    let value: string
    if (src[pos] === '"' || src[pos] === "'") {
      value = readQuoted(start)
    } else {
      const from = pos
      while (pos < src.length && /[A-Za-z0-9_.$\u00a0-\uffff-]/.test(src[pos]!)) pos++
      if (pos === from) fail(`sasl.jaas.config: option at position ${start} has no value; write name="value"`)
      value = src.slice(from, pos)
    }
    options[name] = value
  }
  skipWsAndComments()
  if (pos < src.length) fail('sasl.jaas.config: only one login module is supported')
  return { loginModule, controlFlag, options }
}
