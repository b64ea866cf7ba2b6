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

function flag(props: Map<string, string>, key: string): boolean {
  const v = props.get(key)
  if (v === undefined) return false
  if (v !== 'true' && v !== 'false') throw usageError(`--property ${key} must be true or false; got ${v}`)
  return v === 'true'
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
    if (settings.ignoreError) return { value: line }
    return `no key separator found on line ${lineNumber}: ${line.toString('utf8').slice(0, 80)}`
  }
  const parsed: ParsedLine = {}
  const key = asNullable(line.subarray(0, at))
  const value = asNullable(line.subarray(at + settings.keySeparator.length))
  if (key !== undefined) parsed.key = key
  if (value !== undefined) parsed.value = value
  return parsed
}

/** Splits a byte stream on \n (dropping a \r before it, as Java's readLine does), keeping bytes intact. */
export async function* splitLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0)
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    let data = pending.length > 0 ? Buffer.concat([pending, buf]) : buf
    let nl = data.indexOf(10)
    while (nl >= 0) {
      const end = nl > 0 && data[nl - 1] === 13 ? nl - 1 : nl
      yield data.subarray(0, end)
      data = data.subarray(nl + 1)
      nl = data.indexOf(10)
    }
    pending = Buffer.from(data)
  }
  if (pending.length > 0) yield pending[pending.length - 1] === 13 ? pending.subarray(0, -1) : pending
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

/** DefaultMessageFormatter's output: [CreateTime:ts\t][Partition:p\t][Offset:o\t][headers\t][key\t]value\n */
export function formatRecord(record: PrintableRecord, s: FormatterSettings): Buffer {
  const parts: Buffer[] = []
  const text = (t: string): void => {
    parts.push(Buffer.from(t))
  }
  const bytes = (b: Buffer | null | undefined): void => {
    parts.push(b === null || b === undefined ? Buffer.from(s.nullLiteral) : b)
  }
  if (s.printTimestamp) text(`CreateTime:${record.timestamp}${s.keySeparator}`)
  if (s.printPartition) text(`Partition:${record.partition}${s.keySeparator}`)
  if (s.printOffset) text(`Offset:${record.offset}${s.keySeparator}`)
  if (s.printHeaders) {
    const headers = [...(record.headers ?? new Map())]
    if (headers.length === 0) text('NO_HEADERS')
    headers.forEach(([k, v], i) => {
      if (i > 0) text(s.headersSeparator)
      text(`${k}:`)
      bytes(v)
    })
    text(s.keySeparator)
  }
  if (s.printKey) {
    bytes(record.key)
    if (s.printValue) text(s.keySeparator)
  }
  if (s.printValue) bytes(record.value)
  text(s.lineSeparator)
  return Buffer.concat(parts)
}
