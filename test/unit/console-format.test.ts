import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { UserError } from '../../src/errors.ts'
import {
  CONSUMER_PROPERTIES,
  formatRecord,
  formatterSettings,
  type LineReaderSettings,
  lineReaderSettings,
  PRODUCER_PROPERTIES,
  type PrintableRecord,
  parseLine,
  parsePropertyFlags,
  splitLines
} from '../../src/kafka/console-format.ts'

async function* chunks(...parts: (Buffer | string)[]): AsyncGenerator<Buffer | string> {
  for (const part of parts) yield part
}

async function lines(...parts: (Buffer | string)[]): Promise<Buffer[]> {
  const out: Buffer[] = []
  for await (const line of splitLines(chunks(...parts))) out.push(Buffer.from(line))
  return out
}

const asStrings = (bs: Buffer[]): string[] => bs.map((b) => b.toString('utf8'))

const readerSettings = (props: Record<string, string>): LineReaderSettings =>
  lineReaderSettings(
    parsePropertyFlags(
      Object.entries(props).map(([k, v]) => `${k}=${v}`),
      PRODUCER_PROPERTIES
    )
  )

/** Input through splitLines and parseLine, as the console producer does: [key, value] per record, 'ERROR' on a bad line. */
async function produce(
  props: Record<string, string>,
  input: string
): Promise<([string | null, string | null] | 'ERROR')[]> {
  const settings = readerSettings(props)
  const out: ([string | null, string | null] | 'ERROR')[] = []
  let lineNumber = 0
  for (const line of await lines(input)) {
    const parsed = parseLine(line, ++lineNumber, settings)
    if (typeof parsed === 'string') {
      out.push('ERROR')
      break
    }
    out.push([parsed.key?.toString('utf8') ?? null, parsed.value?.toString('utf8') ?? null])
  }
  return out
}

/**
 * [name, --property settings, stdin, records]. The expected records were produced by Kafka 4.1.1's
 * org.apache.kafka.tools.LineMessageReader (the console producer's reader): a throwaway Java program
 * built against kafka-tools-4.1.1.jar configured it with these properties, fed it the input and printed
 * each ProducerRecord's key and value (null for none); 'ERROR' is where it threw.
 */
const KAFKA_READER_VECTORS: [string, Record<string, string>, string, ([string | null, string | null] | 'ERROR')[]][] = [
  [
    'values only by default',
    {},
    'a\tb\nc\n',
    [
      [null, 'a\tb'],
      [null, 'c']
    ]
  ],
  [
    'keys with parse.key',
    { 'parse.key': 'true' },
    'k1\tv1\nk2\tv2',
    [
      ['k1', 'v1'],
      ['k2', 'v2']
    ]
  ],
  ['missing separator is an error', { 'parse.key': 'true' }, 'k1\tv1\nnokey\nk3\tv3\n', [['k1', 'v1'], 'ERROR']],
  [
    'ignore.error: no separator means no key',
    { 'parse.key': 'true', 'ignore.error': 'true' },
    'nokey\nk\tv\n',
    [
      [null, 'nokey'],
      ['k', 'v']
    ]
  ],
  [
    'null.marker for key and value',
    { 'parse.key': 'true', 'null.marker': 'NULL' },
    'NULL\tx\nk\tNULL\nNULL\tNULL\n',
    [
      [null, 'x'],
      ['k', null],
      [null, null]
    ]
  ],
  [
    'null.marker with ignore.error and no separator',
    { 'parse.key': 'true', 'ignore.error': 'true', 'null.marker': 'NULL' },
    'NULL\nNULLx\n',
    [
      [null, null],
      [null, 'NULLx']
    ]
  ],
  [
    'null.marker without parse.key',
    { 'null.marker': 'NULL' },
    'NULL\nx\nNULL \n',
    [
      [null, null],
      [null, 'x'],
      [null, 'NULL ']
    ]
  ],
  [
    'empty null.marker makes empty lines null',
    { 'null.marker': '' },
    'x\n\ny\n',
    [
      [null, 'x'],
      [null, null],
      [null, 'y']
    ]
  ],
  [
    'multi-character key.separator, first occurrence',
    { 'parse.key': 'true', 'key.separator': '::' },
    'k::v::w\n::v\nk::\n',
    [
      ['k', 'v::w'],
      ['', 'v'],
      ['k', '']
    ]
  ],
  [
    'CRLF line ends',
    { 'parse.key': 'true' },
    'a\t1\r\nb\t2\r\n',
    [
      ['a', '1'],
      ['b', '2']
    ]
  ],
  [
    'a lone CR ends a line',
    {},
    'a\rb\nc',
    [
      [null, 'a'],
      [null, 'b'],
      [null, 'c']
    ]
  ],
  [
    'CR CR LF',
    {},
    'x\r\r\n',
    [
      [null, 'x'],
      [null, '']
    ]
  ],
  [
    'empty lines are empty records',
    {},
    '\n\n',
    [
      [null, ''],
      [null, '']
    ]
  ],
  ['no input, no records', {}, '', []],
  [
    'empty key and empty value',
    { 'parse.key': 'true' },
    '\tv\nk\t\n',
    [
      ['', 'v'],
      ['k', '']
    ]
  ],
  ['multi-byte UTF-8', { 'parse.key': 'true' }, 'clé\t日本語 🎉\n', [['clé', '日本語 🎉']]],
  ['parse.key in capitals', { 'parse.key': 'TRUE' }, 'k\tv\n', [['k', 'v']]]
]

describe('console producer line reader (Kafka LineMessageReader)', () => {
  for (const [name, props, input, expected] of KAFKA_READER_VECTORS) {
    test(`matches Kafka: ${name}`, async () => {
      assert.deepEqual(await produce(props, input), expected)
    })
  }

  test('the missing-separator error names the line number', () => {
    const error = parseLine(Buffer.from('nokey'), 7, readerSettings({ 'parse.key': 'true' }))
    assert.equal(typeof error, 'string')
    assert.match(error as string, /no key separator found on line 7/)
  })

  test('key and value keep arbitrary bytes (not valid UTF-8)', () => {
    const line = Buffer.from([0xff, 0xfe, 0x09, 0x80, 0x00, 0xc3])
    const parsed = parseLine(line, 1, readerSettings({ 'parse.key': 'true' }))
    assert.ok(typeof parsed !== 'string')
    assert.deepEqual(parsed.key, Buffer.from([0xff, 0xfe]))
    assert.deepEqual(parsed.value, Buffer.from([0x80, 0x00, 0xc3]))
  })

  test('defaults: tab separator, no key parsing, no null marker', () => {
    const s = lineReaderSettings(new Map())
    assert.deepEqual(s, { parseKey: false, keySeparator: Buffer.from('\t'), ignoreError: false })
  })

  test('key.separator=\\t written on a shell line means a tab', () => {
    assert.deepEqual(readerSettings({ 'parse.key': 'true', 'key.separator': '\\t' }).keySeparator, Buffer.from('\t'))
  })

  test('an empty key.separator is a usage error', () => {
    assert.throws(
      () => readerSettings({ 'key.separator': '' }),
      (e: unknown) => e instanceof UserError && e.exitCode === 2
    )
  })

  test('null.marker equal to key.separator is a usage error, as in Kafka', () => {
    assert.throws(
      () => readerSettings({ 'parse.key': 'true', 'key.separator': 'X', 'null.marker': 'X' }),
      /null.marker and key.separator must differ/
    )
    assert.throws(() => readerSettings({ 'null.marker': '\t' }), /must differ/)
  })

  test('flags other than true/false (any case) are usage errors', () => {
    assert.throws(() => readerSettings({ 'parse.key': 'yes' }), /parse.key must be true or false; got yes/)
    assert.equal(readerSettings({ 'ignore.error': 'False' }).ignoreError, false)
  })
})

describe('parsePropertyFlags', () => {
  test('splits at the first =', () => {
    assert.deepEqual(parsePropertyFlags(['null.marker=a=b'], PRODUCER_PROPERTIES), new Map([['null.marker', 'a=b']]))
  })

  test('unknown properties and missing = are usage errors', () => {
    assert.throws(() => parsePropertyFlags(['print.key=true'], PRODUCER_PROPERTIES), /unknown --property print.key/)
    assert.throws(() => parsePropertyFlags(['parse.key'], PRODUCER_PROPERTIES), /expects key=value/)
    assert.throws(() => parsePropertyFlags(['=true'], PRODUCER_PROPERTIES), /expects key=value/)
  })

  test('\\t and \\n are unescaped for the separators', () => {
    const props = parsePropertyFlags(['key.separator=\\t|', 'line.separator=\\n\\n'], CONSUMER_PROPERTIES)
    assert.equal(props.get('key.separator'), '\t|')
    assert.equal(props.get('line.separator'), '\n\n')
  })
})

describe('splitLines', () => {
  test('splits on \\n, drops the \\r of \\r\\n, keeps a last line without newline', async () => {
    assert.deepEqual(asStrings(await lines('a\nb\r\nc')), ['a', 'b', 'c'])
  })

  test('a trailing newline does not make an extra empty line; empty lines in between do', async () => {
    assert.deepEqual(asStrings(await lines('a\n\n\nb\n')), ['a', '', '', 'b'])
    assert.deepEqual(asStrings(await lines('\n')), [''])
    assert.deepEqual(await lines(''), [])
    assert.deepEqual(await lines(), [])
  })

  test('a line split across chunks is whole', async () => {
    assert.deepEqual(asStrings(await lines('hel', 'lo wo', 'rld\nnext', '\n')), ['hello world', 'next'])
  })

  test('\\r\\n split across chunks is one line end', async () => {
    assert.deepEqual(asStrings(await lines('a\r', '\nb\r', '', '\nc')), ['a', 'b', 'c'])
  })

  test('a \\r at the very end of the input ends the last line', async () => {
    assert.deepEqual(asStrings(await lines('a\r')), ['a'])
    assert.deepEqual(asStrings(await lines('a\r', '')), ['a'])
  })

  test('a multi-byte UTF-8 character split across chunks stays intact', async () => {
    const bytes = Buffer.from('é€🎉\n', 'utf8')
    for (let cut = 1; cut < bytes.length; cut++) {
      const out = await lines(bytes.subarray(0, cut), bytes.subarray(cut))
      assert.deepEqual(asStrings(out), ['é€🎉'], `cut at byte ${cut}`)
    }
  })

  test('bytes that are not UTF-8 pass through unchanged', async () => {
    const raw = Buffer.from([0xff, 0x00, 0xfe, 0x0a, 0xc3, 0x28, 0x0d, 0x0a])
    assert.deepEqual(await lines(raw.subarray(0, 5), raw.subarray(5)), [
      Buffer.from([0xff, 0x00, 0xfe]),
      Buffer.from([0xc3, 0x28])
    ])
  })

  test('any chunking gives the same lines as one chunk (seeded random cuts)', async () => {
    const input = Buffer.from('k1\tv1\r\n\nclé\t🎉\r\rlast\nx\r\n\r\nend', 'utf8')
    const whole = await lines(input)
    assert.deepEqual(asStrings(whole), ['k1\tv1', '', 'clé\t🎉', '', 'last', 'x', '', 'end'])
    let seed = 42
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return Math.floor((seed / 2147483648) * n)
    }
    for (let round = 0; round < 200; round++) {
      const parts: Buffer[] = []
      let at = 0
      while (at < input.length) {
        const size = random(6)
        parts.push(input.subarray(at, at + size))
        at += size
      }
      assert.deepEqual(await lines(...parts), whole, `round ${round}`)
    }
  })

  test('string chunks are encoded as UTF-8', async () => {
    assert.deepEqual(await lines('ü\n'), [Buffer.from([0xc3, 0xbc])])
  })

  test('the unfinished part of a line is copied, so reusing a chunk buffer later does not change it', async () => {
    const buf = Buffer.from('abc')
    const it = splitLines(chunks(buf, '\n'))
    const out: Buffer[] = []
    for await (const line of it) out.push(line)
    buf.fill(0x7a)
    assert.deepEqual(asStrings(out), ['abc'])
  })
})

const base: PrintableRecord = {
  key: Buffer.from('k1'),
  value: Buffer.from('v1'),
  partition: 2,
  offset: 42n,
  timestamp: 1700000000123n,
  headers: new Map([
    ['h1', Buffer.from('x')],
    ['h2', Buffer.from('y')]
  ])
}
const all = {
  'print.timestamp': 'true',
  'print.partition': 'true',
  'print.offset': 'true',
  'print.headers': 'true',
  'print.key': 'true'
}

/**
 * [name, --property settings, changes to `base`, output]. The expected output was produced by
 * Kafka 4.1.1's org.apache.kafka.tools.consumer.DefaultMessageFormatter (the console consumer's
 * formatter): a throwaway Java program built against kafka-tools-4.1.1.jar configured it with these
 * properties, wrote a ConsumerRecord (CreateTime) with the same fields and printed the bytes.
 */
const KAFKA_FORMATTER_VECTORS: [string, Record<string, string>, Partial<PrintableRecord>, string][] = [
  ['defaults: the value only', {}, {}, 'v1\n'],
  ['print.key', { 'print.key': 'true' }, {}, 'k1\tv1\n'],
  ['null key prints null', { 'print.key': 'true' }, { key: null }, 'null\tv1\n'],
  ['undefined key prints null', { 'print.key': 'true' }, { key: undefined }, 'null\tv1\n'],
  ['null value prints null', {}, { value: null }, 'null\n'],
  ['everything, in Kafka order', all, {}, 'CreateTime:1700000000123\tPartition:2\tOffset:42\th1:x,h2:y\tk1\tv1\n'],
  [
    'everything, custom separators and null literal',
    { ...all, 'key.separator': ' | ', 'line.separator': '\r\n', 'headers.separator': ';', 'null.literal': 'NIL' },
    {
      key: null,
      headers: new Map([
        ['h1', undefined],
        ['h2', Buffer.from('y')]
      ])
    },
    'CreateTime:1700000000123 | Partition:2 | Offset:42 | h1:NIL;h2:y | NIL | v1\r\n'
  ],
  ['no headers prints NO_HEADERS', { 'print.headers': 'true' }, { headers: new Map() }, 'NO_HEADERS\tv1\n'],
  ['absent headers print NO_HEADERS', { 'print.headers': 'true' }, { headers: undefined }, 'NO_HEADERS\tv1\n'],
  [
    'null header value prints the null literal',
    { 'print.headers': 'true' },
    { headers: new Map([['h', undefined]]) },
    'h:null\tv1\n'
  ],
  [
    'print.value=false ends the line after the last column',
    { 'print.key': 'true', 'print.value': 'false' },
    {},
    'k1\n'
  ],
  [
    'print.value=false with metadata only',
    { 'print.partition': 'true', 'print.offset': 'true', 'print.value': 'false' },
    {},
    'Partition:2\tOffset:42\n'
  ],
  ['timestamp only', { 'print.timestamp': 'true', 'print.value': 'false' }, {}, 'CreateTime:1700000000123\n'],
  ['nothing to print prints nothing', { 'print.value': 'false' }, {}, ''],
  [
    'multi-byte UTF-8 kept',
    { 'print.key': 'true' },
    { key: Buffer.from('clé'), value: Buffer.from('日本語 🎉') },
    'clé\t日本語 🎉\n'
  ],
  ['TRUE in capitals counts as true', { 'print.key': 'TRUE', 'print.offset': ' true ' }, {}, 'Offset:42\tk1\tv1\n']
]

describe('formatRecord (Kafka DefaultMessageFormatter)', () => {
  for (const [name, props, changes, expected] of KAFKA_FORMATTER_VECTORS) {
    test(`matches Kafka: ${name}`, () => {
      const out = formatRecord({ ...base, ...changes }, formatterSettings(new Map(Object.entries(props))))
      assert.equal(out.toString('utf8'), expected)
    })
  }

  test('value bytes are written as they are', () => {
    const value = Buffer.from([0xff, 0x00, 0x80])
    const out = formatRecord({ ...base, value }, formatterSettings(new Map()))
    assert.deepEqual(out, Buffer.concat([value, Buffer.from('\n')]))
  })

  test('formatterSettings defaults', () => {
    assert.deepEqual(formatterSettings(new Map()), {
      printKey: false,
      printValue: true,
      printPartition: false,
      printOffset: false,
      printTimestamp: false,
      printHeaders: false,
      keySeparator: '\t',
      lineSeparator: '\n',
      headersSeparator: ',',
      nullLiteral: 'null'
    })
  })

  test('a flag that is not true/false is a usage error', () => {
    assert.throws(() => formatterSettings(new Map([['print.key', 'maybe']])), /print.key must be true or false/)
  })
})
