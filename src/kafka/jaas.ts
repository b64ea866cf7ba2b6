/**
 * Parser for the `sasl.jaas.config` value as Kafka writes it:
 *   org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cret";
 * Returns the login module class and its options. Errors never echo option values,
 * because they hold passwords.
 */
export interface JaasConfig {
  loginModule: string
  controlFlag: string
  options: Record<string, string>
}

export class JaasParseError extends Error {}

export function parseJaasConfig(text: string): JaasConfig {
  const src = text.trim()
  let pos = 0

  const skipWs = (): void => {
    while (pos < src.length && /\s/.test(src[pos]!)) pos++
  }
  const readWord = (): string => {
    const start = pos
    while (pos < src.length && /[A-Za-z0-9_.$-]/.test(src[pos]!)) pos++
    return src.slice(start, pos)
  }

  skipWs()
  const loginModule = readWord()
  if (!loginModule) throw new JaasParseError('sasl.jaas.config must start with a login module class name')
  skipWs()
  const controlFlag = readWord()
  if (!['required', 'requisite', 'sufficient', 'optional'].includes(controlFlag)) {
    throw new JaasParseError(
      `sasl.jaas.config: expected a control flag (required, requisite, sufficient, optional) after ${loginModule}`
    )
  }

  const options: Record<string, string> = {}
  for (;;) {
    skipWs()
    if (pos >= src.length) throw new JaasParseError("sasl.jaas.config must end with ';'")
    if (src[pos] === ';') {
      pos++
      break
    }
    const name = readWord()
    if (!name) throw new JaasParseError(`sasl.jaas.config: unexpected character at position ${pos}`)
    skipWs()
    if (src[pos] !== '=') throw new JaasParseError(`sasl.jaas.config: option ${name} needs a value (${name}="...")`)
    pos++
    skipWs()
    let value: string
    if (src[pos] === '"') {
      pos++
      let out = ''
      while (pos < src.length && src[pos] !== '"') {
        if (src[pos] === '\\' && pos + 1 < src.length) pos++
        out += src[pos]
        pos++
      }
      if (src[pos] !== '"')
        throw new JaasParseError(`sasl.jaas.config: option ${name} has an unterminated quoted value`)
      pos++
      value = out
    } else {
      const start = pos
      while (pos < src.length && !/[\s;]/.test(src[pos]!)) pos++
      value = src.slice(start, pos)
    }
    options[name] = value
  }
  skipWs()
  if (pos < src.length) throw new JaasParseError('sasl.jaas.config: only one login module is supported')
  return { loginModule, controlFlag, options }
}
