import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { type CliResult, runCli, uniqueName } from '../support/cli.ts'
import { testEnv } from '../support/test-env.ts'

const dir = mkdtempSync(join(tmpdir(), 'lagscale-auth-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Writes a Java-style client.properties and returns its path. */
function clientProperties(name: string, lines: string[]): string {
  const path = join(dir, `${name}.properties`)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

const plainJaas = (user: string, password: string): string =>
  `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${user}" password="${password}";`
const scramJaas = (user: string, password: string): string =>
  `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`

/** No AWS profile, no instance metadata: the child process sees only what a test gives it. */
const NO_AWS: NodeJS.ProcessEnv = {
  AWS_PROFILE: undefined,
  AWS_DEFAULT_PROFILE: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined
}
const NO_DEBUG: NodeJS.ProcessEnv = { LAGSCALE_DEBUG: undefined }

const LINES = ['first record', 'zweiter Datensatz ✓', '{"n":3}']

interface AuthCase {
  name: string
  bootstrap: () => string
  lines: () => string[]
}

const working: AuthCase[] = [
  {
    name: 'SASL/PLAIN',
    bootstrap: () => testEnv().saslBootstrap,
    lines: () => [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=PLAIN',
      plainJaas(testEnv().plainUser.name, testEnv().plainUser.password)
    ]
  },
  {
    name: 'SASL/SCRAM-SHA-512',
    bootstrap: () => testEnv().saslBootstrap,
    lines: () => [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=SCRAM-SHA-512',
      scramJaas(testEnv().scramUser.name, testEnv().scramUser.password)
    ]
  },
  {
    name: 'mutual TLS with PEM truststore and keystore',
    bootstrap: () => testEnv().sslBootstrap,
    lines: () => [
      'security.protocol=SSL',
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${testEnv().certs.caPem}`,
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${testEnv().certs.clientKeystore}`
    ]
  },
  {
    name: 'SASL/OAUTHBEARER with an unsecured JWT',
    bootstrap: () => testEnv().saslBootstrap,
    lines: () => [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=OAUTHBEARER',
      'sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice";'
    ]
  }
]

/** Exit 1, one `lagscale: ...` line on stderr matching `message`, nothing on stdout, none of `secrets`. */
function assertOneLineFailure(r: CliResult, message: RegExp, secrets: string[] = []): void {
  assert.equal(r.code, 1, r.stderr)
  assert.equal(r.stdout, '')
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`)
  assert.match(lines[0] ?? '', /^lagscale: /)
  assert.match(lines[0] ?? '', message)
  for (const secret of secrets) {
    assert.ok(!r.stderr.includes(secret), `stderr shows a secret: ${r.stderr}`)
    assert.ok(!r.stdout.includes(secret), 'stdout shows a secret')
  }
}

/** Runs a command that must fail fast; returns its result and how long it took. */
async function timed(args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<CliResult & { ms: number }> {
  const started = Date.now()
  const r = await runCli(args, { env: { ...NO_DEBUG, ...env }, input, timeoutMs: 20_000 })
  return { ...r, ms: Date.now() - started }
}

describe('authentication through the CLI against the test broker', () => {
  for (const auth of working) {
    test(`${auth.name}: create a topic, produce, consume`, { timeout: 90_000 }, async () => {
      const config = clientProperties(auth.name.replace(/\W+/g, '-'), auth.lines())
      const connect = ['--bootstrap-server', auth.bootstrap(), '--command-config', config]
      const topic = uniqueName('auth')

      const created = await runCli(['topics', 'create', ...connect, '--topic', topic])
      assert.equal(created.code, 0, created.stderr)
      assert.equal(created.stdout, `Created topic ${topic}.\n`)
      assert.equal(created.stderr, '', 'no warnings about the properties file')

      const produced = await runCli(['produce', ...connect, '--topic', topic], { input: `${LINES.join('\n')}\n` })
      assert.equal(produced.code, 0, produced.stderr)
      assert.equal(produced.stderr, `Produced ${LINES.length} record(s) to ${topic}\n`)

      const consumed = await runCli([
        'consume',
        ...connect,
        '--topic',
        topic,
        '--from-beginning',
        '--max-messages',
        String(LINES.length),
        '--timeout-ms',
        '20000'
      ])
      assert.equal(consumed.code, 0, consumed.stderr)
      assert.equal(consumed.stdout, `${LINES.join('\n')}\n`)
      assert.equal(consumed.stderr, `Processed a total of ${LINES.length} messages\n`)
    })
  }

  test('KAFKA_COMMAND_CONFIG and KAFKA_BOOTSTRAP_SERVERS stand in for the flags (SCRAM)', {
    timeout: 60_000
  }, async () => {
    const { saslBootstrap, scramUser } = testEnv()
    const config = clientProperties('scram-env', [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=SCRAM-SHA-512',
      scramJaas(scramUser.name, scramUser.password)
    ])
    const env = { KAFKA_COMMAND_CONFIG: config, KAFKA_BOOTSTRAP_SERVERS: saslBootstrap }
    const topic = uniqueName('auth-env')
    const created = await runCli(['topics', 'create', '--topic', topic], { env })
    assert.equal(created.code, 0, created.stderr)
    const listed = await runCli(['topics', 'list'], { env })
    assert.equal(listed.code, 0, listed.stderr)
    assert.ok(listed.stdout.split('\n').includes(topic))
  })

  const wrongPasswords: [string, () => string[], string][] = [
    [
      'PLAIN',
      () => [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=PLAIN',
        plainJaas(testEnv().plainUser.name, 'Wr0ng-PLAIN-pw')
      ],
      'Wr0ng-PLAIN-pw'
    ],
    [
      'SCRAM-SHA-512',
      () => [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-512',
        scramJaas(testEnv().scramUser.name, 'Wr0ng-SCRAM-pw')
      ],
      'Wr0ng-SCRAM-pw'
    ]
  ]
  for (const [mechanism, lines, wrong] of wrongPasswords) {
    test(`wrong ${mechanism} password: "authentication failed" in one line, fast, no password shown`, {
      timeout: 60_000
    }, async () => {
      const { saslBootstrap, plainUser, scramUser } = testEnv()
      const config = clientProperties(`wrong-${mechanism}`, lines())
      const connect = ['--bootstrap-server', saslBootstrap, '--command-config', config]
      const secrets = [wrong, plainUser.password, scramUser.password]
      const topic = uniqueName('auth-wrong')
      const [listed, produced, consumed] = await Promise.all([
        timed(['topics', 'list', ...connect]),
        timed(['produce', ...connect, '--topic', topic], {}, 'a record\n'),
        timed(['consume', ...connect, '--topic', topic, '--from-beginning', '--timeout-ms', '30000'])
      ])
      assertOneLineFailure(listed, /^lagscale: list topics: authentication failed\b/, secrets)
      // produce and consume first look the topic up, so their message names that step.
      assertOneLineFailure(produced, /^lagscale: produce to [\w.-]+: authentication failed\b/, secrets)
      assertOneLineFailure(consumed, /^lagscale: consume from [\w.-]+: authentication failed\b/, secrets)
      for (const r of [listed, produced, consumed]) assert.ok(r.ms < 20_000, `took ${r.ms} ms`)
    })
  }

  test('TLS with a CA that did not sign the broker certificate: a clear TLS error', { timeout: 60_000 }, async () => {
    const { sslBootstrap, certs } = testEnv()
    const config = clientProperties('other-ca', [
      'security.protocol=SSL',
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${certs.otherCaPem}`,
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${certs.clientKeystore}`
    ])
    const r = await timed(['topics', 'list', '--bootstrap-server', sslBootstrap, '--command-config', config])
    assertOneLineFailure(
      r,
      /^lagscale: list topics: TLS handshake failed: the broker's certificate is not trusted \(unable to verify the first certificate\); set ssl\.truststore\.location to the CA that signed it$/
    )
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`)
  })

  test('TLS without the client certificate the listener requires: the broker closes, we say so', {
    timeout: 60_000
  }, async () => {
    const { sslBootstrap, certs } = testEnv()
    const config = clientProperties('no-client-cert', [
      'security.protocol=SSL',
      `ssl.truststore.location=${certs.caPem}`
    ])
    const r = await timed(['topics', 'list', '--bootstrap-server', sslBootstrap, '--command-config', config])
    assertOneLineFailure(r, /^lagscale: list topics: the broker closed the connection \(.*client certificate\?\)$/)
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`)
  })

  const mismatches: [string, () => string, () => string[], RegExp][] = [
    [
      'PLAINTEXT client on the SASL listener',
      () => testEnv().saslBootstrap,
      () => [],
      /^lagscale: list topics: the broker closed the connection \(does security\.protocol match the listener\? does it need SASL/
    ],
    [
      'PLAINTEXT client on the SSL listener',
      () => testEnv().sslBootstrap,
      () => [],
      /^lagscale: list topics: the broker listener expects TLS; set security\.protocol=SSL or SASL_SSL/
    ],
    [
      'SASL client on the PLAINTEXT listener',
      () => testEnv().bootstrap,
      () => [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=PLAIN',
        plainJaas('alice', testEnv().plainUser.password)
      ],
      /^lagscale: list topics: the broker listener does not expect SASL here \(check security\.protocol and the port\)$/
    ],
    [
      'TLS client on the PLAINTEXT listener',
      () => testEnv().bootstrap,
      () => ['security.protocol=SSL', `ssl.truststore.location=${testEnv().certs.caPem}`],
      /^lagscale: list topics: TLS handshake failed: the broker listener does not speak TLS/
    ],
    [
      'a SASL mechanism the broker does not enable',
      () => testEnv().saslBootstrap,
      () => [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-256',
        scramJaas(testEnv().scramUser.name, testEnv().scramUser.password)
      ],
      /^lagscale: list topics: the broker does not accept this SASL mechanism \(it offers PLAIN, SCRAM-SHA-512, OAUTHBEARER\)$/
    ]
  ]
  for (const [name, bootstrap, lines, message] of mismatches) {
    test(`${name}: a clear error, no hang`, { timeout: 60_000 }, async () => {
      const args = ['topics', 'list', '--bootstrap-server', bootstrap()]
      const props = lines()
      if (props.length > 0) args.push('--command-config', clientProperties(uniqueName('mismatch'), props))
      const r = await timed(args)
      assertOneLineFailure(r, message, [testEnv().plainUser.password, testEnv().scramUser.password])
      assert.ok(r.ms < 20_000, `took ${r.ms} ms`)
    })
  }

  test('MSK IAM properties: the signed token reaches the broker, which refuses it as a JWT; no secret shown', {
    timeout: 60_000
  }, async () => {
    const secretKey = 'fAkeSecretAccessKey/ForTheTest0123456789'
    // AWS's client.properties, over SASL_PLAINTEXT because the test broker's SASL listener has no TLS.
    const config = clientProperties('msk-iam', [
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=AWS_MSK_IAM',
      'sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;',
      'sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler'
    ])
    const r = await timed(
      ['topics', 'list', '--bootstrap-server', testEnv().saslBootstrap, '--command-config', config],
      {
        ...NO_AWS,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: secretKey
      }
    )
    assertOneLineFailure(
      r,
      /^lagscale: list topics: authentication failed: the broker rejected the OAUTHBEARER token \(invalid_token\)$/,
      [secretKey]
    )
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`)

    const noCredentials = await timed(
      ['topics', 'list', '--bootstrap-server', testEnv().saslBootstrap, '--command-config', config],
      { ...NO_AWS, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }
    )
    assertOneLineFailure(
      noCredentials,
      /^lagscale: list topics: MSK IAM: cannot get AWS credentials from the default AWS credential chain/
    )
    assert.ok(noCredentials.ms < 20_000, `took ${noCredentials.ms} ms`)
  })

  test('a malformed --command-config never shows the password, with or without LAGSCALE_DEBUG', async () => {
    const password = 'S3cret-in-a-broken-line'
    const broken: [string, string[]][] = [
      [
        'no closing ;',
        [
          `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="${password}"`
        ]
      ],
      [
        'unterminated quote',
        [
          `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="${password};`
        ]
      ],
      [
        'missing =',
        [
          `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password "${password}";`
        ]
      ],
      [
        'stray value',
        [
          `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required password="${password}" ${password};`
        ]
      ],
      [
        'no username',
        [`sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required password="${password}";`]
      ]
    ]
    const runs = broken.flatMap(([name, jaas]) => {
      const config = clientProperties(uniqueName('broken'), [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=PLAIN',
        ...jaas
      ])
      return [undefined, '1'].map(async (debug) => {
        const r = await runCli(
          ['topics', 'list', '--bootstrap-server', testEnv().saslBootstrap, '--command-config', config],
          { env: { LAGSCALE_DEBUG: debug }, timeoutMs: 20_000 }
        )
        return { name, debug, r }
      })
    })
    for (const { name, debug, r } of await Promise.all(runs)) {
      assert.equal(r.code, 2, `${name}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /^lagscale: sasl\.jaas\.config/, name)
      assert.ok(!r.stderr.includes(password), `${name} (LAGSCALE_DEBUG=${debug}) shows the password:\n${r.stderr}`)
      if (debug === undefined) assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${name}: one line`)
    }
  })
})
