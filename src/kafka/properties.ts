import { usageError } from '../errors.ts'

/**
 * Parser for Java `.properties` files, the format of Kafka's `client.properties`
 * (`--command-config`). A port of java.util.Properties#load (LineReader, load0,
 * loadConvert), quirks included: `#`/`!` comments, `=`, `:` or whitespace as
 * separator, backslash line continuation (leading whitespace of the continued
 * line dropped), `\t \n \r \f \uxxxx` escapes, any other escaped character
 * taken as itself. A malformed `\uxxxx` escape is an error, as in Java; the
 * message names the line but never echoes its text, since these files hold passwords.
 */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>()
  for (const { line, start } of logicalLines(text)) {
    const [keyEnd, valueStart] = splitKeyValue(line)
    try {
      result.set(unescapeJava(line, 0, keyEnd), unescapeJava(line, valueStart, line.length))
    } catch (err) {
      if (err instanceof MalformedEscape) {
        throw usageError(`properties line ${lineNumberAt(text, start)}: malformed \\uxxxx escape`)
      }
      throw err
    }
  }
  return result
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f'
const isEol = (c: string): boolean => c === '\n' || c === '\r'

/** Properties.LineReader#readLine: logical lines, continuations joined, comments and blank lines skipped. */
function* logicalLines(text: string): Generator<{ line: string; start: number }> {
  let off = 0
  for (;;) {
    let line = ''
    let start = off
    let skipWhiteSpace = true
    let appendedLineBegin = false
    let precedingBackslash = false
    for (;;) {
      if (off >= text.length) {
        if (line.length > 0) yield { line: precedingBackslash ? line.slice(0, -1) : line, start }
        return
      }
      const c = text[off++]!
      if (skipWhiteSpace) {
        if (isBlank(c)) continue
        if (!appendedLineBegin && isEol(c)) continue
        skipWhiteSpace = false
        appendedLineBegin = false
      }
      if (line.length === 0) {
        // Java checks for a comment whenever the logical line is still empty, even on a continued line.
        if (c === '#' || c === '!') {
          while (off < text.length && !isEol(text[off]!)) off++
          if (off >= text.length) return
          off++
          skipWhiteSpace = true
          continue
        }
        start = off - 1
      }
      if (!isEol(c)) {
        line += c
        precedingBackslash = c === '\\' ? !precedingBackslash : false
        continue
      }
      if (line.length === 0) {
        skipWhiteSpace = true
        continue
      }
      if (off >= text.length) {
        yield { line: precedingBackslash ? line.slice(0, -1) : line, start }
        return
      }
      if (!precedingBackslash) {
        yield { line, start }
        break
      }
      // A backslash at the end of a line joins the next one, without its leading whitespace.
      line = line.slice(0, -1)
      skipWhiteSpace = true
      appendedLineBegin = true
      precedingBackslash = false
      if (c === '\r' && text[off] === '\n') off++
    }
  }
}

/** Properties#load0: the end of the key and the start of the value in a logical line. */
function splitKeyValue(line: string): [keyEnd: number, valueStart: number] {
  let keyEnd = 0
  let valueStart = line.length
  let hasSeparator = false
  let precedingBackslash = false
  while (keyEnd < line.length) {
    const c = line[keyEnd]!
    if ((c === '=' || c === ':') && !precedingBackslash) {
      valueStart = keyEnd + 1
      hasSeparator = true
      break
    }
    if (isBlank(c) && !precedingBackslash) {
      valueStart = keyEnd + 1
      break
    }
    precedingBackslash = c === '\\' ? !precedingBackslash : false
    keyEnd++
  }
  // Whitespace around the separator, and one `=` or `:` after whitespace, are not part of the value.
  while (valueStart < line.length) {
    const c = line[valueStart]!
    if (!isBlank(c)) {
      if (!hasSeparator && (c === '=' || c === ':')) hasSeparator = true
      else break
    }
    valueStart++
  }
  return [keyEnd, valueStart]
}

class MalformedEscape extends Error {}

/** Properties#loadConvert over s[from, to). */
function unescapeJava(s: string, from: number, to: number): string {
  let out = ''
  let i = from
  while (i < to) {
    let c = s[i++]!
    if (c !== '\\') {
      out += c
      continue
    }
    c = s[i++] ?? ''
    if (c === 'u') {
      const hex = s.slice(i, i + 4)
      if (i > to - 4 || !/^[0-9a-fA-F]{4}$/.test(hex)) throw new MalformedEscape()
      out += String.fromCharCode(Number.parseInt(hex, 16))
      i += 4
      continue
    }
    out += c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 'f' ? '\f' : c
  }
  return out
}

function lineNumberAt(text: string, offset: number): number {
  return (text.slice(0, offset).match(/\r\n|\r|\n/g)?.length ?? 0) + 1
}
