/**
 * Parser for Java `.properties` files, the format of Kafka's `client.properties`
 * (`--command-config`). Follows java.util.Properties#load: `#`/`!` comments,
 * `=`, `:` or whitespace as separator, backslash line continuation and escapes.
 */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>()
  const physical = text.split(/\r\n|\r|\n/)
  for (let i = 0; i < physical.length; i++) {
    let line = stripLeadingWhitespace(physical[i] ?? '')
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    // A line ending in an odd number of backslashes continues on the next one.
    while (endsWithContinuation(line) && i + 1 < physical.length) {
      i++
      line = line.slice(0, -1) + stripLeadingWhitespace(physical[i] ?? '')
    }
    if (endsWithContinuation(line)) line = line.slice(0, -1)
    const [key, value] = splitKeyValue(line)
    result.set(unescapeJava(key), unescapeJava(value))
  }
  return result
}

function stripLeadingWhitespace(s: string): string {
  return s.replace(/^[ \t\f]+/, '')
}

function endsWithContinuation(line: string): boolean {
  let count = 0
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) count++
  return count % 2 === 1
}

function splitKeyValue(line: string): [string, string] {
  let i = 0
  while (i < line.length) {
    const c = line[i]
    if (c === '\\') {
      i += 2
      continue
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break
    i++
  }
  const key = line.slice(0, i)
  let rest = line.slice(i)
  // Whitespace around a single separator is not part of the value.
  rest = rest.replace(/^[ \t\f]*/, '')
  if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]*/, '')
  return [key, rest]
}

function unescapeJava(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, esc: string) => {
    if (esc.length === 5) return String.fromCharCode(Number.parseInt(esc.slice(1), 16))
    switch (esc) {
      case 't':
        return '\t'
      case 'n':
        return '\n'
      case 'r':
        return '\r'
      case 'f':
        return '\f'
      default:
        return esc
    }
  })
}
