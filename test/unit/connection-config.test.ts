import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { inspect } from 'node:util'
import { UserError } from '../../src/errors.ts'
import { baseClientOptions } from '../../src/kafka/client-options.ts'
import {
  type ConnectionInputs,
  describeConnection,
  resolveConnectionConfig
} from '../../src/kafka/connection-config.ts'

const dir = mkdtempSync(join(tmpdir(), 'lagscale-conn-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let fileCount = 0
/** Writes a client.properties and returns its path. */
function props(...lines: string[]): string {
  const path = join(dir, `client-${++fileCount}.properties`)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

const PASSWORD = 'pa55-W0rd-never-print-me'
const KEY_PASSPHRASE = 'key-phrase-never-print-me'
const plainJaas = (password = PASSWORD): string =>
  `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="${password}";`

/** Resolves with an empty environment unless one is given, collecting warnings. */
function resolve(inputs: ConnectionInputs = {}): {
  config: ReturnType<typeof resolveConnectionConfig>
  warnings: string[]
} {
  const warnings: string[] = []
  const config = resolveConnectionConfig({ env: {}, ...inputs, warn: (m) => warnings.push(m) })
  return { config, warnings }
}

/** Runs `fn`, which must throw a usage error (exit code 2); returns its message. */
function usageFailure(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${inspect(err)}`)
    assert.equal(err.exitCode, 2, err.message)
    assert.doesNotMatch(err.message, /\n/, 'one line')
    return err.message
  }
  assert.fail('expected a usage error')
}

describe('resolveConnectionConfig: bootstrap servers', () => {
  const file = props('bootstrap.servers=file-host:9094')
  const cases: [string, ConnectionInputs, string[]][] = [
    ['nothing set: localhost:9092', {}, ['localhost:9092']],
    ['file only', { commandConfig: file }, ['file-host:9094']],
    ['env beats file', { commandConfig: file, env: { KAFKA_BOOTSTRAP_SERVERS: 'env-host:9093' } }, ['env-host:9093']],
    [
      'flag beats env and file',
      { bootstrapServer: 'flag-host:9095', commandConfig: file, env: { KAFKA_BOOTSTRAP_SERVERS: 'env-host:9093' } },
      ['flag-host:9095']
    ],
    ['env without file', { env: { KAFKA_BOOTSTRAP_SERVERS: 'env-host:9093' } }, ['env-host:9093']],
    ['empty env counts as unset', { commandConfig: file, env: { KAFKA_BOOTSTRAP_SERVERS: '' } }, ['file-host:9094']],
    ['list with spaces', { bootstrapServer: ' a:1 , b:2,[::1]:9092 ' }, ['a:1', 'b:2', '[::1]:9092']]
  ]
  for (const [name, inputs, expected] of cases) {
    test(name, () => {
      assert.deepEqual(resolve(inputs).config.bootstrapServers, expected)
    })
  }

  test('KAFKA_COMMAND_CONFIG names the properties file; --command-config beats it', () => {
    const fromEnv = props('bootstrap.servers=env-file:1', 'client.id=from-env-file')
    const fromFlag = props('bootstrap.servers=flag-file:2')
    assert.deepEqual(resolve({ env: { KAFKA_COMMAND_CONFIG: fromEnv } }).config.bootstrapServers, ['env-file:1'])
    assert.equal(resolve({ env: { KAFKA_COMMAND_CONFIG: fromEnv } }).config.clientId, 'from-env-file')
    assert.deepEqual(
      resolve({ commandConfig: fromFlag, env: { KAFKA_COMMAND_CONFIG: fromEnv } }).config.bootstrapServers,
      ['flag-file:2']
    )
  })
})

describe('resolveConnectionConfig: what a properties file selects', () => {
  test('no file: PLAINTEXT, no SASL, no TLS, default timeouts', () => {
    const { config, warnings } = resolve()
    assert.equal(config.securityProtocol, 'PLAINTEXT')
    assert.equal(config.sasl, undefined)
    assert.equal(config.tls, undefined)
    assert.equal(config.connectTimeoutMs, 5000)
    assert.equal(config.requestTimeoutMs, 15000)
    assert.deepEqual(warnings, [])
  })

  test('SASL PLAIN: username and password from the jaas line, password kept in a Secret', () => {
    const { config, warnings } = resolve({
      commandConfig: props('security.protocol=SASL_PLAINTEXT', 'sasl.mechanism=PLAIN', plainJaas())
    })
    assert.deepEqual(warnings, [])
    assert.equal(config.sasl?.mechanism, 'PLAIN')
    assert.ok(config.sasl && 'password' in config.sasl)
    assert.equal(config.sasl.username, 'alice')
    assert.equal(config.sasl.password.reveal(), PASSWORD)
  })

  test('SCRAM-SHA-512 over SASL_SSL, lower case and trailing spaces as Kafka accepts them', () => {
    const { config } = resolve({
      commandConfig: props(
        'security.protocol = sasl_ssl   ',
        'sasl.mechanism=scram-sha-512 ',
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\`,
        `    username="bob" \\`,
        `    password="${PASSWORD}";`
      )
    })
    assert.equal(config.securityProtocol, 'SASL_SSL')
    assert.equal(config.sasl?.mechanism, 'SCRAM-SHA-512')
    assert.ok(config.sasl && 'password' in config.sasl)
    assert.equal(config.sasl.username, 'bob')
    assert.equal(config.sasl.password.reveal(), PASSWORD)
    assert.deepEqual(config.tls, { verifyHostname: true }, 'SASL_SSL without ssl.* uses the default trust store')
  })

  test('OAUTHBEARER with unsecured claims', () => {
    const { config } = resolve({
      commandConfig: props(
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=OAUTHBEARER',
        'sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice" unsecuredLoginLifetimeSeconds="60" unsecuredLoginExtension_traceId="t1";',
        'sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredLoginCallbackHandler'
      )
    })
    assert.deepEqual(config.sasl, {
      mechanism: 'OAUTHBEARER',
      token: { kind: 'unsecured', principal: 'alice', lifetimeSeconds: 60, extensions: { traceId: 't1' } }
    })
  })

  test('TLS: PEM truststore, PEM keystore (key + chain in one file), key password, hostname check off', () => {
    const ca = join(dir, 'ca.pem')
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n')
    const keystore = join(dir, 'keystore.pem')
    const key = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nS0VZ\n-----END ENCRYPTED PRIVATE KEY-----'
    const chain = [
      '-----BEGIN CERTIFICATE-----\nTEVBRg==\n-----END CERTIFICATE-----',
      '-----BEGIN CERTIFICATE-----\nSU5U\n-----END CERTIFICATE-----'
    ]
    writeFileSync(keystore, `${key}\n${chain.join('\n')}\n`)
    const { config, warnings } = resolve({
      commandConfig: props(
        'security.protocol=SSL',
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${ca} `,
        'ssl.keystore.type=PEM',
        `ssl.keystore.location=${keystore}`,
        `ssl.key.password=${KEY_PASSPHRASE}`,
        'ssl.endpoint.identification.algorithm='
      )
    })
    assert.deepEqual(warnings, [])
    assert.equal(config.tls?.ca, '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n')
    assert.equal(config.tls?.cert, chain.join('\n'))
    assert.equal(config.tls?.key?.reveal(), key)
    assert.equal(config.tls?.keyPassphrase?.reveal(), KEY_PASSPHRASE)
    assert.equal(config.tls?.verifyHostname, false)
    const tls = baseClientOptions(config).tls
    assert.equal(tls?.key, key)
    assert.equal(tls?.passphrase, KEY_PASSPHRASE)
    assert.equal(typeof tls?.checkServerIdentity, 'function')
  })

  test('client properties are passed on; timeouts come from the file', () => {
    const { config } = resolve({
      commandConfig: props('acks=1', 'group.id=g1', 'request.timeout.ms=1234', 'socket.connection.setup.timeout.ms=999')
    })
    assert.deepEqual(config.clientProperties, { acks: '1', 'group.id': 'g1' })
    assert.equal(config.requestTimeoutMs, 1234)
    assert.equal(config.connectTimeoutMs, 999)
  })
})

describe('resolveConnectionConfig: warnings', () => {
  test('an unknown key is named in a warning, and only it', () => {
    const path = props('bootstrap.servers=h:1', 'fetch.max.bytes=1024', 'ssl.truststore.lokation=/x')
    const { warnings } = resolve({ commandConfig: path })
    assert.deepEqual(warnings, [
      `${path}: ignoring unsupported property fetch.max.bytes`,
      `${path}: ignoring unsupported property ssl.truststore.lokation`,
      `${path}: ssl.* settings are ignored because security.protocol is PLAINTEXT`
    ])
  })

  test('sasl.* without a SASL security.protocol: a warning, never the password', () => {
    const path = props('sasl.mechanism=PLAIN', plainJaas())
    const { config, warnings } = resolve({ commandConfig: path })
    assert.equal(config.sasl, undefined)
    assert.deepEqual(warnings, [`${path}: sasl.* settings are ignored because security.protocol is PLAINTEXT`])
  })
})

describe('resolveConnectionConfig: bad input is a usage error (exit 2) that never shows the password', () => {
  const sasl = (...lines: string[]): ConnectionInputs => ({
    commandConfig: props('security.protocol=SASL_SSL', ...lines)
  })
  const notPem = join(dir, 'truststore.jks')
  writeFileSync(notPem, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]))

  const cases: [string, ConnectionInputs, RegExp][] = [
    [
      'bad security.protocol',
      { commandConfig: props('security.protocol=SASL_TLS', plainJaas()) },
      /^security\.protocol must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; got SASL_TLS$/
    ],
    [
      'bad sasl.mechanism',
      sasl('sasl.mechanism=PLAINTEXT', plainJaas()),
      /^sasl\.mechanism must be one of .*got PLAINTEXT$/
    ],
    ['sasl.mechanism not set', sasl(plainJaas()), /^sasl\.mechanism is not set \(Kafka defaults to GSSAPI/],
    ['GSSAPI', sasl('sasl.mechanism=GSSAPI', plainJaas()), /GSSAPI \(Kerberos\) is not supported/],
    [
      'missing username',
      sasl(
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required password="${PASSWORD}";`
      ),
      /^sasl\.jaas\.config for PLAIN needs username="\.\.\." and password="\.\.\."$/
    ],
    [
      'missing password',
      sasl('sasl.mechanism=SCRAM-SHA-512', 'sasl.jaas.config=x.Y required username="bob";'),
      /needs username/
    ],
    [
      'missing jaas config',
      sasl('sasl.mechanism=SCRAM-SHA-256'),
      /sasl\.mechanism=SCRAM-SHA-256 needs sasl\.jaas\.config/
    ],
    [
      'jaas line without ;',
      sasl(
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="${PASSWORD}"`
      ),
      /sasl\.jaas\.config/
    ],
    [
      'jaas value with an unterminated quote',
      sasl(
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="${PASSWORD};`
      ),
      /sasl\.jaas\.config/
    ],
    [
      'jaas with a stray token after the password',
      sasl(
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required password="${PASSWORD}" "${PASSWORD}";`
      ),
      /sasl\.jaas\.config/
    ],
    [
      'unsupported OAUTHBEARER handler',
      sasl(
        'sasl.mechanism=OAUTHBEARER',
        'sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
        'sasl.login.callback.handler.class=com.example.OidcHandler'
      ),
      /unsupported OAUTHBEARER callback handler com\.example\.OidcHandler/
    ],
    [
      'bad bootstrap host:port',
      { bootstrapServer: 'kafka-1' },
      /^invalid bootstrap server "kafka-1": expected host:port$/
    ],
    ['bootstrap port out of range', { bootstrapServer: 'a:1,b:70000' }, /^invalid bootstrap server "b:70000"/],
    ['empty bootstrap', { bootstrapServer: ' , ' }, /bootstrap servers must not be empty/],
    ['bad bootstrap in env', { env: { KAFKA_BOOTSTRAP_SERVERS: 'host:port' } }, /invalid bootstrap server "host:port"/],
    [
      'missing file',
      { commandConfig: join(dir, 'nope.properties') },
      /^cannot read command config .*nope\.properties: no such file$/
    ],
    ['a directory', { commandConfig: dir }, /^cannot read command config .*: is a directory$/],
    [
      'a path through a file',
      { commandConfig: join(notPem, 'client.properties') },
      /^cannot read command config .*truststore\.jks\/client\.properties: no such file$/
    ],
    [
      'JKS truststore type',
      { commandConfig: props('security.protocol=SSL', 'ssl.truststore.type=JKS', `ssl.truststore.location=${notPem}`) },
      /^ssl\.truststore\.type JKS is not supported; convert the truststore to PEM/
    ],
    [
      'JKS file without a type (Java defaults to JKS)',
      { commandConfig: props('security.protocol=SSL', `ssl.truststore.location=${notPem}`) },
      /ssl\.truststore\.location .*truststore\.jks is not a PEM file/
    ],
    [
      'PKCS12 keystore',
      { commandConfig: props('security.protocol=SSL', 'ssl.keystore.type=PKCS12', `ssl.keystore.location=${notPem}`) },
      /ssl\.keystore\.type PKCS12 is not supported/
    ],
    [
      'keystore without a key',
      {
        commandConfig: props('security.protocol=SSL', `ssl.keystore.location=${notPem}`, `ssl.key.password=${PASSWORD}`)
      },
      /must hold a PEM private key and certificate chain/
    ],
    [
      'missing truststore file',
      { commandConfig: props('security.protocol=SSL', `ssl.truststore.location=${join(dir, 'no-ca.pem')}`) },
      /cannot read ssl\.truststore\.location .*no-ca\.pem/
    ],
    [
      'timeout not a number',
      { commandConfig: props('request.timeout.ms=soon') },
      /request\.timeout\.ms must be a positive integer; got soon/
    ]
  ]

  for (const [name, inputs, expected] of cases) {
    test(name, () => {
      const message = usageFailure(() => resolve(inputs))
      assert.match(message, expected)
      assert.ok(!message.includes(PASSWORD), `the password leaked: ${message}`)
    })
  }
})

describe('secrets never print', () => {
  const ca = join(dir, 'secret-ca.pem')
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n')
  const keystore = join(dir, 'secret-keystore.pem')
  const keyBody = 'UFJJVkFURS1LRVktQllURVM='
  writeFileSync(
    keystore,
    `-----BEGIN PRIVATE KEY-----\n${keyBody}\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n`
  )
  const configs = {
    PLAIN: ['security.protocol=SASL_PLAINTEXT', 'sasl.mechanism=PLAIN', plainJaas()],
    'SCRAM over mTLS': [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="${PASSWORD}";`,
      `ssl.truststore.location=${ca}`,
      `ssl.keystore.location=${keystore}`,
      `ssl.key.password=${KEY_PASSPHRASE}`
    ]
  }
  for (const [name, lines] of Object.entries(configs)) {
    test(`${name}: describeConnection, JSON.stringify and util.inspect`, () => {
      const { config } = resolve({ commandConfig: props(...lines) })
      const renderings = {
        describe: describeConnection(config),
        json: JSON.stringify(config),
        inspect: inspect(config, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        template: `${config.sasl && 'password' in config.sasl ? config.sasl.password : ''}`
      }
      for (const [how, text] of Object.entries(renderings)) {
        for (const secret of [PASSWORD, KEY_PASSPHRASE, keyBody]) {
          assert.ok(!text.includes(secret), `${how} shows a secret: ${text}`)
        }
      }
      assert.match(renderings.json, /"password":"\[redacted\]"/)
      assert.match(renderings.inspect, /password: \[redacted\]/)
      assert.equal(renderings.template, '[redacted]')
    })
  }

  test('describeConnection says where and how', () => {
    const { config } = resolve({
      bootstrapServer: 'k1:9096,k2:9096',
      commandConfig: props(...configs['SCRAM over mTLS'])
    })
    assert.equal(describeConnection(config), 'k1:9096,k2:9096 via SASL_SSL, SCRAM-SHA-512 as bob')
    assert.equal(describeConnection(resolve().config), 'localhost:9092 via PLAINTEXT, no SASL')
  })
})
