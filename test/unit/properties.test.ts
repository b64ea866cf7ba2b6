import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { UserError } from '../../src/errors.ts'
import { parseProperties } from '../../src/kafka/properties.ts'

const parsed = (text: string): Record<string, string> => Object.fromEntries(parseProperties(text))

/**
 * [name, file text, what java.util.Properties#load gives]. The expected maps were
 * produced by Java 17: a throwaway program called `new Properties().load(new StringReader(text))`
 * on each text and printed the entries; they are pasted here verbatim.
 */
const JAVA_VECTORS: [string, string, Record<string, string>][] = [
  ['equals separator', 'bootstrap.servers=localhost:9092\n', { 'bootstrap.servers': 'localhost:9092' }],
  ['colon separator', 'security.protocol:SASL_SSL\n', { 'security.protocol': 'SASL_SSL' }],
  ['whitespace separator', 'sasl.mechanism PLAIN\n', { 'sasl.mechanism': 'PLAIN' }],
  ['whitespace around separators', '  a   =   b  \n\tc\t:\td\n', { a: 'b  ', c: 'd' }],
  ['whitespace then separator then more', 'a = = b\nc : : d\ne :=f\n', { a: '= b', c: ': d', e: '=f' }],
  ['hash and bang comments', '# comment=1\n! also=2\n   # indented\nreal=3\n', { real: '3' }],
  ['comment marker inside a value', 'a=b # not a comment\nc=d!e\n', { a: 'b # not a comment', c: 'd!e' }],
  ['blank lines and whitespace-only lines', '\n\n   \n\t\f\na=1\n\n', { a: '1' }],
  [
    'escaped separators and spaces in key',
    'my\\=key=v1\nmy\\:key=v2\nmy\\ key=v3\n\\#notcomment=v4\n',
    { '#notcomment': 'v4', 'my key': 'v3', 'my:key': 'v2', 'my=key': 'v1' }
  ],
  [
    'continuation with leading whitespace on continued line',
    'sasl.jaas.config=org.example.Module required \\\n    username="alice" \\\n    password="secret";\n',
    { 'sasl.jaas.config': 'org.example.Module required username="alice" password="secret";' }
  ],
  ['continuation keeps whitespace before the backslash', 'a=one \\\n  two\n', { a: 'one two' }],
  ['even backslashes do not continue', 'a=x\\\\\nb=y\n', { a: 'x\\', b: 'y' }],
  ['odd backslashes continue', 'a=x\\\\\\\n  y\n', { a: 'x\\y' }],
  ['continued line starting with # is not a comment', 'a=x\\\n#y\n', { a: 'x#y' }],
  ['empty logical line after continuation then comment', '\\\n# c\nk=v\n', { k: 'v' }],
  ['continuation at end of file', 'a=b\\', { a: 'b' }],
  ['lone backslash at end of file', '\\', { '': '' }],
  ['unicode escapes', 'name=caf\\u00e9\nk\\u0065y=\\u0041\\u00df\n', { key: 'Aß', name: 'café' }],
  [
    'character escapes',
    'a=tab\\there\nb=nl\\nx\nc=\\r\\f\nd=\\q\\\\\n',
    { a: 'tab\there', b: 'nl\nx', c: '\r\f', d: 'q\\' }
  ],
  ['trailing whitespace kept', 'a=value   \nb=\ttab\t\n', { a: 'value   ', b: 'tab\t' }],
  ['empty values', 'a=\nb\nc:\nd   \n', { a: '', b: '', c: '', d: '' }],
  ['CRLF line endings', 'a=1\r\nb=2\r\n\r\nc=3\\\r\n  4\r\n', { a: '1', b: '2', c: '34' }],
  ['CR-only line endings', 'a=1\rb=2\r', { a: '1', b: '2' }],
  ['duplicate keys: last wins', 'a=1\na=2\n', { a: '2' }],
  ['raw non-ASCII kept', 'user=José 日本\n', { user: 'José 日本' }],
  ['no trailing newline', 'a=1\nb=2', { a: '1', b: '2' }],
  ['form feed as whitespace', '\fa\f=\fb\n', { a: 'b' }]
]

describe('parseProperties (java.util.Properties#load)', () => {
  for (const [name, text, expected] of JAVA_VECTORS) {
    test(`matches Java: ${name}`, () => {
      assert.deepEqual(parsed(text), expected)
    })
  }

  test('a Kafka client.properties for SASL_SSL', () => {
    const text = [
      '# MSK with SCRAM',
      'bootstrap.servers=b-1.example.kafka.us-east-1.amazonaws.com:9096',
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\',
      '  username="alice" \\',
      '  password="p@ss=word:with#chars";',
      ''
    ].join('\n')
    const props = parseProperties(text)
    assert.equal(props.size, 4)
    assert.equal(props.get('security.protocol'), 'SASL_SSL')
    assert.equal(
      props.get('sasl.jaas.config'),
      'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p@ss=word:with#chars";'
    )
  })

  test('keeps the order of first appearance', () => {
    assert.deepEqual([...parseProperties('b=1\na=2\nc=3\n').keys()], ['b', 'a', 'c'])
  })

  test('empty text and comment-only text give no entries', () => {
    assert.equal(parseProperties('').size, 0)
    assert.equal(parseProperties('# only\n! comments\n\n').size, 0)
  })

  test('a comment line ending in a backslash does not continue', () => {
    assert.deepEqual(parsed('# comment \\\na=1\n'), { a: '1' })
  })

  test('a backslash before \\r\\n continues onto the next line', () => {
    assert.deepEqual(parsed('a=x\\\r\n   y\r\nb=z\r\n'), { a: 'xy', b: 'z' })
  })

  test('an escaped line separator is a character, U+2028 included', () => {
    assert.deepEqual(parsed('a=x\\\u2028y\n'), { a: 'x\u2028y' })
  })

  test('\\uxxxx escapes may spell a separator without splitting the key', () => {
    assert.deepEqual(parsed('a\\u003db=c\n'), { 'a=b': 'c' })
  })

  for (const [name, text, line] of [
    ['too few hex digits', 'a=\\u12\n', 1],
    ['non-hex digits', 'x=1\nb=\\u00zz\n', 2],
    ['at the end of the key', 'x=1\n\n# c\nk\\u00=v\n', 4],
    ['at the end of the file', 'a=\\u', 1]
  ] as const) {
    test(`a malformed \\uxxxx escape is a usage error naming the line (${name}), as Java throws`, () => {
      assert.throws(
        () => parseProperties(text),
        (err: unknown) => {
          assert.ok(err instanceof UserError)
          assert.equal(err.exitCode, 2)
          assert.match(err.message, new RegExp(`line ${line}\\b`))
          return true
        }
      )
    })
  }

  test('the error for a malformed escape does not echo the value (it may be a password)', () => {
    assert.throws(
      () => parseProperties('sasl.jaas.config=Module required password="hunter2\\uZZZZ";\n'),
      (err: unknown) => err instanceof Error && !err.message.includes('hunter2') && !err.message.includes('ZZZZ')
    )
  })
})
