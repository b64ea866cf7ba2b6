/**
 * The record formats of Kafka's console tools: LineMessageReader's `--property`
 * settings for the producer, DefaultMessageFormatter's for the consumer. Pure.
 */
import { usageError } from '../errors.ts'

export function parsePropertyFlags(pairs: string[], allowed: readonly string[]): Map<string, string> {
  const result = new Map<string, string>()
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw usageError(`--property expects key=value; got ${pair}`)
    const key = pair.slice(0, eq)
    if (!allowed.includes(key)) throw usageError(`unknown --property ${key}; supported: ${allowed.join(', ')}`)
    result.set(key, unescapeSeparator(pair.slice(eq + 1)))
  }
  return result
}

/** Lets users write `key.separator=\t` on a shell line, as with Kafka's tools. */
function unescapeSeparator(value: string): string {
  return value.replace(/\\t/g, '\t').replace(/\\n/g, '\n')
}

/** Kafka's tools take `true` in any case (trim().equalsIgnoreCase); anything but true/false is a mistake here. */
function flag(props: Map<string, string>, key: string): boolean {
  const v = props.get(key)
  if (v === undefined) return false
  const normalized = v.trim().toLowerCase()
  if (normalized !== 'true' && normalized !== 'false') {
    throw usageError(`--property ${key} must be true or false; got ${v}`)
  }
  return normalized === 'true'
}

export const PRODUCER_PROPERTIES = ['parse.key', 'key.separator', 'ignore.error', 'null.marker'] as const

export interface LineReaderSettings {
  parseKey: boolean
  keySeparator: Buffer
  ignoreError: boolean
  nullMarker?: Buffer
}

export function lineReaderSettings(props: Map<string, string>): LineReaderSettings {
  const separator = props.get('key.separator') ?? '\t'
  if (separator === '') throw usageError('--property key.separator must not be empty')
  const settings: LineReaderSettings = {
    parseKey: flag(props, 'parse.key'),
    keySeparator: Buffer.from(separator),
    ignoreError: flag(props, 'ignore.error')
  }
  const nullMarker = props.get('null.marker')
  if (nullMarker === separator) throw usageError('--property null.marker and key.separator must differ')
  if (nullMarker !== undefined) settings.nullMarker = Buffer.from(nullMarker)
  return settings
}

export interface ParsedLine {
  key?: Buffer
  value?: Buffer
}

/** One input line (without its newline) to a record, or an error sentence when the key separator is missing. */
export function parseLine(line: Buffer, lineNumber: number, settings: LineReaderSettings): ParsedLine | string {
  const asNullable = (b: Buffer): Buffer | undefined =>
    settings.nullMarker !== undefined && b.equals(settings.nullMarker) ? undefined : b
  if (!settings.parseKey) {
    const value = asNullable(line)
    return value === undefined ? {} : { value }
  }
  const at = line.indexOf(settings.keySeparator)
  if (at < 0) {
    if (settings.ignoreError) {
      // Kafka's LineMessageReader: no key, the whole line is the value, which may be the null marker.
      const value = asNullable(line)
      return value === undefined ? {} : { value }
    }
    return `no key separator found on line ${lineNumber}: ${line.toString('utf8').slice(0, 80)}`
  }
  const parsed: ParsedLine = {}
  const key = asNullable(line.subarray(0, at))
  const value = asNullable(line.subarray(at + settings.keySeparator.length))
  if (key !== undefined) parsed.key = key
  if (value !== undefined) parsed.value = value
  return parsed
}

/**
 * Splits a byte stream into lines as Java's BufferedReader#readLine does (the
 * reader of Kafka's console producer): a line ends at \n, \r or \r\n, and the
 * last line needs no terminator. Bytes stay intact, so a multi-byte UTF-8
 * character or a \r\n split across chunks is still whole.
 */
export async function* splitLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  // Pieces of the unfinished line, kept apart so that a long line costs no repeated copying.
  let pending: Buffer[] = []
  let afterCr = false
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (buf.length === 0) continue
    let start = 0
    // A \r ended the previous chunk: a \n starting this one belongs to it.
    if (afterCr && buf[0] === 10) start = 1
    afterCr = false
    let lf = buf.indexOf(10, start)
    let cr = buf.indexOf(13, start)
    for (;;) {
      if (lf >= 0 && lf < start) lf = buf.indexOf(10, start)
      if (cr >= 0 && cr < start) cr = buf.indexOf(13, start)
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr)
      if (end < 0) break
      const tail = buf.subarray(start, end)
      yield pending.length === 0 ? tail : Buffer.concat([...pending, tail])
      pending = []
      start = end + 1
      if (buf[end] === 13) {
        if (start === buf.length) afterCr = true
        else if (buf[start] === 10) start++
      }
    }
    if (start < buf.length) pending.push(Buffer.from(buf.subarray(start)))
  }
  if (pending.length > 0) yield Buffer.concat(pending)
}

export const CONSUMER_PROPERTIES = [
  'print.key',
  'print.value',
  'print.partition',
  'print.offset',
  'print.timestamp',
  'print.headers',
  'key.separator',
  'line.separator',
  'headers.separator',
  'null.literal'
] as const

export interface FormatterSettings {
  printKey: boolean
  printValue: boolean
  printPartition: boolean
  printOffset: boolean
  printTimestamp: boolean
  printHeaders: boolean
  keySeparator: string
  lineSeparator: string
  headersSeparator: string
  nullLiteral: string
}

export function formatterSettings(props: Map<string, string>): FormatterSettings {
  return {
    printKey: flag(props, 'print.key'),
    printValue: props.has('print.value') ? flag(props, 'print.value') : true,
    printPartition: flag(props, 'print.partition'),
    printOffset: flag(props, 'print.offset'),
    printTimestamp: flag(props, 'print.timestamp'),
    printHeaders: flag(props, 'print.headers'),
    keySeparator: props.get('key.separator') ?? '\t',
    lineSeparator: props.get('line.separator') ?? '\n',
    headersSeparator: props.get('headers.separator') ?? ',',
    nullLiteral: props.get('null.literal') ?? 'null'
  }
}

export interface PrintableRecord {
  key?: Buffer | null | undefined
  value?: Buffer | null | undefined
  partition: number
  offset: bigint
  timestamp: bigint
  headers?: Map<string, Buffer | undefined>
}

/**
 * DefaultMessageFormatter's output: the enabled columns of
 * [CreateTime:ts] [Partition:p] [Offset:o] [headers] [key] [value], joined by
 * key.separator and ended by line.separator; nothing at all when no column is enabled.
 */
export function formatRecord(record: PrintableRecord, s: FormatterSettings): Buffer {
  const orNull = (b: Buffer | null | undefined): Buffer =>
    b === null || b === undefined ? Buffer.from(s.nullLiteral) : b
  const columns: Buffer[][] = []
  if (s.printTimestamp) columns.push([Buffer.from(`CreateTime:${record.timestamp}`)])
  if (s.printPartition) columns.push([Buffer.from(`Partition:${record.partition}`)])
  if (s.printOffset) columns.push([Buffer.from(`Offset:${record.offset}`)])
  if (s.printHeaders) {
    const headers = [...(record.headers ?? new Map<string, Buffer | undefined>())]
    const column: Buffer[] = headers.length === 0 ? [Buffer.from('NO_HEADERS')] : []
    headers.forEach(([k, v], i) => {
      if (i > 0) column.push(Buffer.from(s.headersSeparator))
      column.push(Buffer.from(`${k}:`), orNull(v))
    })
    columns.push(column)
  }
  if (s.printKey) columns.push([orNull(record.key)])
  if (s.printValue) columns.push([orNull(record.value)])
  if (columns.length === 0) return Buffer.alloc(0)
  const separator = Buffer.from(s.keySeparator)
  const parts = columns.flatMap((column, i) => (i === 0 ? column : [separator, ...column]))
  parts.push(Buffer.from(s.lineSeparator))
  return Buffer.concat(parts)
}
