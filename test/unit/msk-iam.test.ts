import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { UserError } from '../../src/errors.ts'
import { baseClientOptions } from '../../src/kafka/client-options.ts'
import {
  type ConnectionInputs,
  describeConnection,
  type OAuthTokenSource,
  resolveConnectionConfig
} from '../../src/kafka/connection-config.ts'
import { toUserError } from '../../src/kafka/errors.ts'
import { oauthTokenProvider } from '../../src/kafka/oauth-token.ts'

const dir = mkdtempSync(join(tmpdir(), 'lagscale-msk-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let fileCount = 0
function props(text: string): string {
  const path = join(dir, `client-${++fileCount}.properties`)
  writeFileSync(path, text)
  return path
}

/** The client.properties AWS documents for MSK IAM, byte for byte. */
const SEED_PROPERTIES = `security.protocol=SASL_SSL
sasl.mechanism=AWS_MSK_IAM
sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;
sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler
`
const MSK_BOOTSTRAP = 'b-1.mycluster.abc123.c2.kafka.eu-west-1.amazonaws.com:9098'

function resolve(inputs: ConnectionInputs): { config: ReturnType<typeof resolveConnectionConfig>; warnings: string[] } {
  const warnings: string[] = []
  const config = resolveConnectionConfig({ env: {}, ...inputs, warn: (m) => warnings.push(m) })
  return { config, warnings }
}

function tokenSource(config: ReturnType<typeof resolveConnectionConfig>): OAuthTokenSource {
  assert.equal(config.sasl?.mechanism, 'OAUTHBEARER')
  assert.ok(config.sasl?.mechanism === 'OAUTHBEARER')
  return config.sasl.token
}

describe('MSK IAM client.properties', () => {
  test("AWS's four lines are accepted as they are: OAUTHBEARER with an msk-iam token, region from the host", () => {
    const path = props(SEED_PROPERTIES)
    const { config, warnings } = resolve({ bootstrapServer: MSK_BOOTSTRAP, commandConfig: path })
    assert.deepEqual(warnings, [])
    assert.equal(config.securityProtocol, 'SASL_SSL')
    assert.deepEqual(config.bootstrapServers, [MSK_BOOTSTRAP])
    assert.deepEqual(tokenSource(config), { kind: 'msk-iam', region: 'eu-west-1' })
    assert.deepEqual(config.tls, { verifyHostname: true }, "TLS with Node's default trust store, as MSK needs")
    assert.equal(describeConnection(config), `${MSK_BOOTSTRAP} via SASL_SSL, OAUTHBEARER (MSK IAM, eu-west-1)`)
    const sasl = baseClientOptions(config).sasl
    assert.equal(sasl?.mechanism, 'OAUTHBEARER')
    assert.equal(typeof sasl?.token, 'function', 'a token provider, called on every (re)authentication')
  })

  test('the host region wins over AWS_REGION; serverless and China hosts too', () => {
    const path = props(SEED_PROPERTIES)
    const cases: [string, string][] = [
      [MSK_BOOTSTRAP, 'eu-west-1'],
      ['boot-abcd1234.c3.kafka-serverless.ap-southeast-2.amazonaws.com:9098', 'ap-southeast-2'],
      ['b-2.cluster.xyz.c1.kafka.cn-north-1.amazonaws.com.cn:9098', 'cn-north-1'],
      [`localhost:9098,${MSK_BOOTSTRAP}`, 'eu-west-1']
    ]
    for (const [bootstrap, region] of cases) {
      const { config } = resolve({ bootstrapServer: bootstrap, commandConfig: path, env: { AWS_REGION: 'us-east-2' } })
      assert.deepEqual(tokenSource(config), { kind: 'msk-iam', region }, bootstrap)
    }
  })

  test('not an MSK host: the region comes from AWS_REGION, then AWS_DEFAULT_REGION', () => {
    const path = props(SEED_PROPERTIES)
    const viaRegion = resolve({
      bootstrapServer: 'kafka.internal:9098',
      commandConfig: path,
      env: { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-west-1' }
    })
    assert.deepEqual(tokenSource(viaRegion.config), { kind: 'msk-iam', region: 'us-east-2' })
    const viaDefault = resolve({
      bootstrapServer: 'kafka.internal:9098',
      commandConfig: path,
      env: { AWS_REGION: '', AWS_DEFAULT_REGION: 'us-west-1' }
    })
    assert.deepEqual(tokenSource(viaDefault.config), { kind: 'msk-iam', region: 'us-west-1' })
  })

  test('no region anywhere: a usage error (exit 2) that says to set AWS_REGION', () => {
    const path = props(SEED_PROPERTIES)
    assert.throws(
      () => resolve({ bootstrapServer: 'kafka.internal:9098', commandConfig: path }),
      (err: unknown) =>
        err instanceof UserError &&
        err.exitCode === 2 &&
        /^MSK IAM: cannot tell the AWS region from the bootstrap servers .*set AWS_REGION$/.test(err.message)
    )
  })

  test('awsProfileName, awsRoleArn and awsRoleSessionName in the jaas line are carried into the token source', () => {
    const roleArn = 'arn:aws:iam::123456789012:role/msk-client'
    const cases: [string, OAuthTokenSource][] = [
      ['awsProfileName="x"', { kind: 'msk-iam', region: 'eu-west-1', profile: 'x' }],
      [`awsRoleArn="${roleArn}"`, { kind: 'msk-iam', region: 'eu-west-1', roleArn }],
      [
        `awsRoleArn="${roleArn}" awsRoleSessionName="lagscale-run" awsDebugCreds=true`,
        { kind: 'msk-iam', region: 'eu-west-1', roleArn, roleSessionName: 'lagscale-run' }
      ]
    ]
    for (const [options, expected] of cases) {
      const path = props(SEED_PROPERTIES.replace('IAMLoginModule required;', `IAMLoginModule required ${options};`))
      const { config, warnings } = resolve({ bootstrapServer: MSK_BOOTSTRAP, commandConfig: path })
      assert.deepEqual(warnings, [])
      assert.deepEqual(tokenSource(config), expected, options)
    }
  })

  test('the OAUTHBEARER form: OAuthBearerLoginModule with IAMOAuthBearerLoginCallbackHandler', () => {
    const handler = 'software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler'
    const forms = [
      `sasl.login.callback.handler.class=${handler}`,
      `sasl.login.callback.handler.class=${handler}\nsasl.client.callback.handler.class=${handler}`
    ]
    for (const handlers of forms) {
      const path = props(
        [
          'security.protocol=SASL_SSL',
          'sasl.mechanism=OAUTHBEARER',
          'sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
          handlers
        ].join('\n')
      )
      const { config, warnings } = resolve({ bootstrapServer: MSK_BOOTSTRAP, commandConfig: path })
      assert.deepEqual(warnings, [])
      assert.deepEqual(tokenSource(config), { kind: 'msk-iam', region: 'eu-west-1' })
    }
  })

  test('the IAM login module with another sasl.mechanism is refused', () => {
    const path = props(
      'security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;\n'
    )
    assert.throws(
      () => resolve({ bootstrapServer: MSK_BOOTSTRAP, commandConfig: path }),
      (err: unknown) =>
        err instanceof UserError &&
        err.exitCode === 2 &&
        /needs sasl\.mechanism=AWS_MSK_IAM or OAUTHBEARER; got PLAIN/.test(err.message)
    )
  })
})

describe('MSK IAM token', () => {
  const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'
  const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
  const PROFILE_KEY_ID = 'AKIAPROFILEXEXAMPLE1'
  const PROFILE_SECRET = 'profile-secret-0123456789abcdefghijklmno'
  const ROLE_KEY_ID = 'ASIAROLEEXAMPLE00001'
  const ROLE_SECRET = 'role-secret-0123456789abcdefghijklmnopq'
  const ROLE_ARN = 'arn:aws:iam::123456789012:role/msk-client'
  const AWS_KEYS = [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_EC2_METADATA_DISABLED',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ROLE_ARN',
    'AWS_ENDPOINT_URL',
    'AWS_ENDPOINT_URL_STS'
  ]
  const saved = new Map(AWS_KEYS.map((k) => [k, process.env[k]]))
  const credentialsFile = join(dir, 'credentials')
  const stsRequests: string[] = []
  let sts: Server

  /** Env credentials, no profile files, no instance metadata: nothing leaves this machine. */
  function isolateAws(env: Record<string, string>): void {
    for (const k of AWS_KEYS) delete process.env[k]
    Object.assign(process.env, {
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(dir, 'no-such-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-such-credentials'),
      AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}`,
      ...env
    })
  }

  before(async () => {
    writeFileSync(
      credentialsFile,
      `[default]\naws_access_key_id = AKIADEFAULTPROFILE01\naws_secret_access_key = default-secret\n\n[x]\naws_access_key_id = ${PROFILE_KEY_ID}\naws_secret_access_key = ${PROFILE_SECRET}\n`
    )
    // A stand-in for STS: answers AssumeRole with fixed temporary credentials.
    sts = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => {
        body += d.toString()
      })
      req.on('end', () => {
        stsRequests.push(`${req.headers.authorization ?? ''}\n${body}`)
        const expiration = new Date(Date.now() + 3600_000).toISOString()
        res.writeHead(200, { 'content-type': 'text/xml' })
        res.end(
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${ROLE_KEY_ID}</AccessKeyId><SecretAccessKey>${ROLE_SECRET}</SecretAccessKey><SessionToken>role-session-token</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${ROLE_ARN}/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`
        )
      })
    })
    await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve))
  })
  after(async () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    await new Promise<void>((resolve) => sts.close(() => resolve()))
  })

  /** The presigned URL inside a token. */
  function decode(token: string): URL {
    assert.match(token, /^[A-Za-z0-9_-]+$/, 'base64url without padding')
    return new URL(Buffer.from(token, 'base64url').toString('utf8'))
  }

  test('from env credentials: a SigV4-presigned kafka-cluster:Connect URL for the region, without the secret', async () => {
    isolateAws({ AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY })
    const { config } = resolve({ bootstrapServer: MSK_BOOTSTRAP, commandConfig: props(SEED_PROPERTIES) })
    const token = await oauthTokenProvider(tokenSource(config))()
    const raw = Buffer.from(token, 'base64url').toString('utf8')
    assert.ok(raw.startsWith('https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect&'), raw)
    const url = decode(token)
    assert.equal(url.searchParams.get('Action'), 'kafka-cluster:Connect')
    assert.equal(url.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256')
    assert.match(
      url.searchParams.get('X-Amz-Credential') ?? '',
      new RegExp(`^${ACCESS_KEY_ID}/\\d{8}/eu-west-1/kafka-cluster/aws4_request$`)
    )
    assert.equal(url.searchParams.get('X-Amz-Expires'), '900')
    assert.match(url.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/)
    assert.match(url.searchParams.get('User-Agent') ?? '', /^aws-msk-iam-sasl-signer-js\//)
    for (const form of [SECRET_ACCESS_KEY, encodeURIComponent(SECRET_ACCESS_KEY)]) {
      assert.ok(!raw.includes(form), 'the secret key is not in the token')
      assert.ok(!token.includes(form))
    }
  })

  test('region from AWS_REGION is the signing region', async () => {
    isolateAws({ AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: 'ap-south-1' })
    const { config } = resolve({
      bootstrapServer: 'kafka.internal:9098',
      commandConfig: props(SEED_PROPERTIES),
      env: process.env
    })
    const url = decode(await oauthTokenProvider(tokenSource(config))())
    assert.equal(url.host, 'kafka.ap-south-1.amazonaws.com')
    assert.match(url.searchParams.get('X-Amz-Credential') ?? '', /\/ap-south-1\/kafka-cluster\/aws4_request$/)
  })

  test('awsProfileName="x" signs with that profile, not the env or default credentials', async () => {
    isolateAws({
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile
    })
    const path = props(SEED_PROPERTIES.replace('required;', 'required awsProfileName="x";'))
    const { config } = resolve({ bootstrapServer: 'b-1.c.kafka.us-west-2.amazonaws.com:9098', commandConfig: path })
    const token = await oauthTokenProvider(tokenSource(config))()
    const url = decode(token)
    assert.match(url.searchParams.get('X-Amz-Credential') ?? '', new RegExp(`^${PROFILE_KEY_ID}/\\d{8}/us-west-2/`))
    assert.ok(!Buffer.from(token, 'base64url').toString().includes(PROFILE_SECRET))
  })

  test('awsRoleArn signs with the credentials STS hands out for that role', async () => {
    isolateAws({ AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY })
    const path = props(
      SEED_PROPERTIES.replace('required;', `required awsRoleArn="${ROLE_ARN}" awsRoleSessionName="lagscale-test";`)
    )
    const { config } = resolve({ bootstrapServer: 'b-1.c.kafka.eu-central-1.amazonaws.com:9098', commandConfig: path })
    const provider = oauthTokenProvider(tokenSource(config))
    const url = decode(await provider())
    assert.match(url.searchParams.get('X-Amz-Credential') ?? '', new RegExp(`^${ROLE_KEY_ID}/\\d{8}/eu-central-1/`))
    assert.equal(url.searchParams.get('X-Amz-Security-Token'), 'role-session-token')
    assert.equal(stsRequests.length, 1)
    const request = stsRequests[0] ?? ''
    assert.match(request, /Action=AssumeRole/)
    assert.ok(request.includes(`RoleArn=${encodeURIComponent(ROLE_ARN)}`), request)
    assert.match(request, /RoleSessionName=lagscale-test/)
    assert.match(request, new RegExp(`Credential=${ACCESS_KEY_ID}/`), 'STS is called with the base (env) credentials')

    // Every connection asks for a token; they share one, so STS is not called per connection.
    const again = await Promise.all([provider(), provider(), oauthTokenProvider(tokenSource(config))()])
    assert.equal(new Set(again).size, 1)
    assert.equal(stsRequests.length, 1)
  })

  test('no credentials anywhere: one clear error, no instance metadata lookup', async () => {
    isolateAws({})
    const started = Date.now()
    const source: OAuthTokenSource = { kind: 'msk-iam', region: 'sa-east-1' }
    const err = await oauthTokenProvider(source)().then(
      () => assert.fail('expected no credentials'),
      (e: unknown) => e
    )
    assert.ok(err instanceof UserError)
    assert.match(err.message, /^MSK IAM: cannot get AWS credentials from the default AWS credential chain .*: .+/)
    assert.ok(Date.now() - started < 5000, 'no network timeouts')
    // Raised inside the Kafka client's authentication, it still reaches the user as this sentence.
    const wrapped = new Error('Connection to b-1:9098 failed.', {
      cause: Object.assign(new Error('The SASL/OAUTHBEARER token provider threw an error.', { cause: err }), {
        code: 'PLT_KFK_AUTHENTICATION'
      })
    })
    assert.equal(toUserError(wrapped, 'list topics').message, `list topics: ${err.message}`)
  })
})
