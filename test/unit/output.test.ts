import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { formatTable, parseOutputFormat, toJson } from '../../src/cli/output.ts'

describe('formatTable', () => {
  test('pads each column to its widest cell plus one space, like kafka-consumer-groups', () => {
    const table = formatTable(
      ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
      [['group_id', 'Topic_from_java', 0, 42n, 100n, 58n, '-', '-', '-']]
    )
    // The README's example, as Kafka's `%-Ns %-Ns ...` format lays it out.
    assert.equal(
      table,
      [
        'GROUP    TOPIC           PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID',
        'group_id Topic_from_java 0         42             100            58  -           -    -'
      ].join('\n')
    )
  })

  test('every column starts at the same position on every line', () => {
    const table = formatTable(
      ['A', 'LONGER-HEADER', 'C'],
      [
        ['wide-cell-here', 1, 'x'],
        ['y', 123456789, 'zz']
      ]
    )
    const lines = table.split('\n')
    assert.equal(lines.length, 3)
    const starts = (line: string): number[] => [...line.matchAll(/(?<=^| )\S/g)].map((m) => m.index ?? -1)
    for (const line of lines) assert.deepEqual(starts(line), [0, 15, 29], JSON.stringify(line))
  })

  test('no trailing whitespace; the last column is not padded', () => {
    const table = formatTable(
      ['A', 'B'],
      [
        ['1', 'long value'],
        ['2', '']
      ]
    )
    for (const line of table.split('\n')) assert.equal(line, line.trimEnd())
    assert.equal(table, 'A B\n1 long value\n2')
  })

  test('numbers and bigints print in full', () => {
    assert.equal(formatTable(['N', 'BIG'], [[-1, 2n ** 63n - 1n]]), 'N  BIG\n-1 9223372036854775807')
  })

  test('no rows: the header line only', () => {
    assert.equal(formatTable(['GROUP', 'TOPIC'], []), 'GROUP TOPIC')
  })
})

describe('toJson', () => {
  test('bigints that fit in a double are numbers', () => {
    assert.equal(toJson({ offset: 42n, negative: -1n }), '{\n  "offset": 42,\n  "negative": -1\n}')
    assert.deepEqual(JSON.parse(toJson([BigInt(Number.MAX_SAFE_INTEGER), -BigInt(Number.MAX_SAFE_INTEGER)])), [
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER
    ])
  })

  test('bigints beyond 2^53 - 1 are exact strings', () => {
    const big = BigInt(Number.MAX_SAFE_INTEGER) + 2n
    assert.deepEqual(JSON.parse(toJson({ a: big, b: -big, c: 2n ** 63n - 1n })), {
      a: '9007199254740993',
      b: '-9007199254740993',
      c: '9223372036854775807'
    })
  })

  test('Maps become objects, bigints inside them too', () => {
    const value = {
      lag: new Map<string, unknown>([
        ['t:0', 5n],
        ['t:1', new Map([['nested', 2n ** 60n]])]
      ])
    }
    assert.deepEqual(JSON.parse(toJson(value)), { lag: { 't:0': 5, 't:1': { nested: '1152921504606846976' } } })
  })

  test('other values as JSON.stringify gives them, indented by two spaces', () => {
    const value = { s: 'x', n: 1.5, b: true, nil: null, list: [1, 'two'], skipped: undefined }
    assert.equal(toJson(value), JSON.stringify(value, null, 2))
  })
})

describe('parseOutputFormat', () => {
  test('text and json', () => {
    assert.equal(parseOutputFormat('text'), 'text')
    assert.equal(parseOutputFormat('json'), 'json')
  })

  test('anything else is an error naming the value', () => {
    assert.throws(() => parseOutputFormat('yaml'), /--output must be text or json; got yaml/)
    assert.throws(() => parseOutputFormat('JSON'), /got JSON/)
  })
})
