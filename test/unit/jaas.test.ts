import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type JaasConfig, JaasParseError, parseJaasConfig } from '../../src/kafka/jaas.ts'

/**
 * [name, sasl.jaas.config text, what Kafka's own parser gives]. The expected results were
 * produced with Kafka 4.1.1's org.apache.kafka.common.security.JaasConfig (a throwaway Java
 * program built against kafka-clients-4.1.1.jar parsed each text and printed the login module,
 * control flag and options); they are pasted here verbatim.
 */
const KAFKA_VECTORS: [string, string, JaasConfig][] = [
  [
    'PLAIN with double-quoted values',
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cret";',
    {
      loginModule: 'org.apache.kafka.common.security.plain.PlainLoginModule',
      controlFlag: 'required',
      options: { password: 's3cret', username: 'alice' }
    }
  ],
  [
    'SCRAM over several lines',
    'org.apache.kafka.common.security.scram.ScramLoginModule required\n  username="bob"\n  password="pa ss";',
    {
      loginModule: 'org.apache.kafka.common.security.scram.ScramLoginModule',
      controlFlag: 'required',
      options: { password: 'pa ss', username: 'bob' }
    }
  ],
  [
    'escaped quote and backslash',
    'M required password="a\\"b\\\\c";',
    { loginModule: 'M', controlFlag: 'required', options: { password: 'a"b\\c' } }
  ],
  [
    'Java escapes in a quoted value',
    'M required a="x\\ny" b="x\\ty" c="\\r\\f\\b" d="\\a\\v";',
    { loginModule: 'M', controlFlag: 'required', options: { a: 'x\ny', b: 'x\ty', c: '\r\f\b', d: '\u0007\u000b' } }
  ],
  [
    'octal escapes',
    'M required a="\\101\\60" b="\\377" c="\\477" d="\\0";',
    { loginModule: 'M', controlFlag: 'required', options: { a: 'A0', b: 'ÿ', c: "'7", d: '\u0000' } }
  ],
  [
    'unknown escape is the character itself',
    'M required a="\\q\\ \\u00e9";',
    { loginModule: 'M', controlFlag: 'required', options: { a: 'q u00e9' } }
  ],
  [
    'single-quoted values',
    "M required username='alice' password='it\\'s \"quoted\"';",
    { loginModule: 'M', controlFlag: 'required', options: { password: 'it\'s "quoted"', username: 'alice' } }
  ],
  [
    'unquoted values',
    'M required useKeyTab=true serviceName=kafka name=a.b-c_d$e;',
    {
      loginModule: 'M',
      controlFlag: 'required',
      options: { name: 'a.b-c_d$e', serviceName: 'kafka', useKeyTab: 'true' }
    }
  ],
  [
    'empty quoted value',
    'M required username="" password="";',
    { loginModule: 'M', controlFlag: 'required', options: { password: '', username: '' } }
  ],
  [
    'whitespace around =',
    'M required a = "x"  b =y ;',
    { loginModule: 'M', controlFlag: 'required', options: { a: 'x', b: 'y' } }
  ],
  [
    'no whitespace between options',
    'M required a="x"b="y";',
    { loginModule: 'M', controlFlag: 'required', options: { a: 'x', b: 'y' } }
  ],
  ['control flag in any case', 'M Required a="x";', { loginModule: 'M', controlFlag: 'required', options: { a: 'x' } }],
  ['other control flags', 'M sufficient;', { loginModule: 'M', controlFlag: 'sufficient', options: {} }],
  ['no options', 'M optional ;', { loginModule: 'M', controlFlag: 'optional', options: {} }],
  [
    'line and block comments',
    'M required // a comment\n a="x" /* b="no" */ c="y";',
    { loginModule: 'M', controlFlag: 'required', options: { a: 'x', c: 'y' } }
  ],
  [
    'option names with . - _ $',
    'M required a.b="1" c-d="2" e_f="3" $g="4";',
    { loginModule: 'M', controlFlag: 'required', options: { $g: '4', 'a.b': '1', 'c-d': '2', e_f: '3' } }
  ],
  [
    'duplicate option: last wins',
    'M required a="1" a="2";',
    { loginModule: 'M', controlFlag: 'required', options: { a: '2' } }
  ],
  [
    'non-ASCII in a quoted value',
    'M required password="pässwörd日本";',
    { loginModule: 'M', controlFlag: 'required', options: { password: 'pässwörd日本' } }
  ],
  [
    'inner class login module name',
    'com.example.Outer$Inner requisite;',
    { loginModule: 'com.example.Outer$Inner', controlFlag: 'requisite', options: {} }
  ]
]

const parseError = (text: string, pattern: RegExp): void => {
  assert.throws(
    () => parseJaasConfig(text),
    (err: unknown) => {
      assert.ok(err instanceof JaasParseError, `JaasParseError for ${JSON.stringify(text)}`)
      assert.match(err.message, pattern)
      return true
    }
  )
}

describe('parseJaasConfig', () => {
  for (const [name, text, expected] of KAFKA_VECTORS) {
    test(`matches Kafka: ${name}`, () => {
      assert.deepEqual(parseJaasConfig(text), expected)
    })
  }

  test('leading and trailing whitespace around the entry is ignored', () => {
    assert.deepEqual(parseJaasConfig('\n  M required a="x";  \n'), {
      loginModule: 'M',
      controlFlag: 'required',
      options: { a: 'x' }
    })
  })

  test('a ; inside a quoted value does not end the entry', () => {
    assert.equal(parseJaasConfig('M required password="a;b" user="c";').options['password'], 'a;b')
  })

  test('unquoted values may start with a digit (Kafka would reject them; lagscale is lenient)', () => {
    assert.equal(parseJaasConfig('M required lifetime=3600;').options['lifetime'], '3600')
  })

  // Kafka rejects all of these too (its messages are in the comments).
  test('empty text: no login module', () => parseError('', /must start with a login module/))
  test('missing semicolon', () => parseError('M required a="x"', /must end with ';'/))
  test('missing semicolon after the control flag', () => parseError('M required', /must end with ';'/))
  test('bad control flag', () =>
    parseError('M mandatory a="x";', /control flag \(required, requisite, sufficient, optional\)/))
  test('missing control flag', () => parseError('M;', /control flag/))
  test('unterminated quoted value', () => parseError('M required password="abc;', /unterminated quoted value/))
  test('a quoted value ends at the end of the line, as in Kafka', () =>
    parseError('M required a="x\n";', /unterminated quoted value/))
  test('option name without a value', () => parseError('M required a;', /expected name="value" at position 11/))
  test('empty unquoted value', () => parseError('M required a=;', /option at position 11 has no value/))
  test('a second login module (a client takes exactly one)', () =>
    parseError('M required a="x"; N required b="y";', /only one login module/))
  test('junk inside an unquoted value', () => parseError('M required a=x@y;', /unexpected character at position 14/))
  test('unterminated block comment', () => parseError('M required /* a="x";', /unterminated \/\* comment/))

  test('errors never contain option values, even when a bad value spills into the place of a name', () => {
    const secret = 'S3cr3tV4lue'
    const malformed = [
      `M required username="alice" password=S3cr3t V4lue;`,
      `M required password="S3cr3t"V4lue";`,
      `M required password="${secret}`,
      `M required password="${secret}"`,
      `M required password=${secret}@x;`,
      `M required password='${secret}";`,
      `M required password=S3cr3t V4lue="x`,
      `M required password=S3cr3t\nV4lue;`,
      `M required password="${secret}"; extra`,
      `M required password=${secret} /* unterminated`,
      `M ${secret}="x";`,
      secret
    ]
    const fragments = Array.from({ length: secret.length - 3 }, (_, i) => secret.slice(i, i + 4))
    for (const text of malformed) {
      assert.throws(
        () => parseJaasConfig(text),
        (err: unknown) => {
          assert.ok(err instanceof JaasParseError, JSON.stringify(text))
          for (const fragment of fragments) {
            assert.ok(!err.message.includes(fragment), `${JSON.stringify(err.message)} leaks ${fragment}`)
          }
          return true
        }
      )
    }
  })
})
