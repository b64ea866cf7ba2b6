import { readFileSync } from 'node:fs'
import { UserError, usageError } from '../errors.ts'
import { JaasParseError, parseJaasConfig } from './jaas.ts'
import { parseProperties } from './properties.ts'
import { Secret } from './secret.ts'

/**
 * How lagscale reaches a Kafka cluster: one object, built once from flags, env and
 * a Java-style `client.properties`, then passed to every client we create.
 */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'

export type OAuthTokenSource =
  /** Amazon MSK IAM: a SigV4-presigned `kafka-cluster:Connect` URL from aws-msk-iam-sasl-signer-js. */
  | { kind: 'msk-iam'; region: string; profile?: string; roleArn?: string; roleSessionName?: string }
  /** Kafka's unsecured JWS (alg none), as OAuthBearerUnsecuredLoginCallbackHandler makes: for dev and tests. */
  | { kind: 'unsecured'; principal: string; lifetimeSeconds: number; extensions: Record<string, string> }

export type SaslConfig =
  | { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: Secret }
  | { mechanism: 'OAUTHBEARER'; token: OAuthTokenSource }

export interface TlsConfig {
  /** PEM CA bundle; when absent Node's default trust store is used (as on MSK). */
  ca?: string
  /** Client certificate chain and key (PEM) for mutual TLS. */
  cert?: string
  key?: Secret
  keyPassphrase?: Secret
  /** `ssl.endpoint.identification.algorithm=` (empty) turns hostname checks off, as in Java. */
  verifyHostname: boolean
}

export interface ConnectionConfig {
  bootstrapServers: string[]
  clientId: string
  securityProtocol: SecurityProtocol
  sasl?: SaslConfig
  tls?: TlsConfig
  /** Bound on connecting and on each request, so an unreachable cluster fails fast. */
  connectTimeoutMs: number
  requestTimeoutMs: number
  /** Settings from the properties file that clients may use (acks, group.id, ...). */
  clientProperties: Record<string, string>
}

export interface ConnectionInputs {
  /** `--bootstrap-server` */
  bootstrapServer?: string | undefined
  /** `--command-config` (path to a properties file) */
  commandConfig?: string | undefined
  clientId?: string | undefined
  env?: NodeJS.ProcessEnv
  warn?: (message: string) => void
}

export const DEFAULT_BOOTSTRAP = 'localhost:9092'

const SECURITY_PROTOCOLS: SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', 'AWS_MSK_IAM'] as const

/** Keys we act on. */
const CONNECTION_KEYS = new Set([
  'bootstrap.servers',
  'client.id',
  'security.protocol',
  'sasl.mechanism',
  'sasl.jaas.config',
  'sasl.client.callback.handler.class',
  'sasl.login.callback.handler.class',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.certificates',
  'ssl.truststore.password',
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
  'request.timeout.ms',
  'socket.connection.setup.timeout.ms'
])

/** Producer/consumer keys that commands read from `clientProperties`. */
const CLIENT_KEYS = new Set(['acks', 'enable.idempotence', 'group.id', 'auto.offset.reset', 'linger.ms'])

const MSK_IAM_LOGIN_MODULE = 'software.amazon.msk.auth.iam.IAMLoginModule'
const MSK_IAM_HANDLERS = new Set([
  'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
  'software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler'
])

/** Kafka's own OAUTHBEARER defaults: naming them explicitly changes nothing. */
const KAFKA_OAUTHBEARER_HANDLERS = new Set([
  'org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredLoginCallbackHandler',
  'org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerSaslClientCallbackHandler'
])

/** Builds and validates the connection config. Throws UserError (exit code 2) with one clear line. */
export function resolveConnectionConfig(inputs: ConnectionInputs): ConnectionConfig {
  const env = inputs.env ?? process.env
  const warn = inputs.warn ?? (() => {})
  const configPath = inputs.commandConfig ?? nonEmpty(env['KAFKA_COMMAND_CONFIG'])
  const props = configPath ? readPropertiesFile(configPath) : new Map<string, string>()

  for (const key of props.keys()) {
    if (!CONNECTION_KEYS.has(key) && !CLIENT_KEYS.has(key)) {
      warn(`${configPath}: ignoring unsupported property ${key}`)
    }
  }

  const bootstrapRaw =
    inputs.bootstrapServer ??
    nonEmpty(env['KAFKA_BOOTSTRAP_SERVERS']) ??
    props.get('bootstrap.servers') ??
    DEFAULT_BOOTSTRAP
  const bootstrapServers = parseBootstrapServers(bootstrapRaw)

  const protocolRaw = (props.get('security.protocol') ?? 'PLAINTEXT').trim().toUpperCase()
  if (!SECURITY_PROTOCOLS.includes(protocolRaw as SecurityProtocol)) {
    throw usageError(
      `security.protocol must be one of ${SECURITY_PROTOCOLS.join(', ')}; got ${protocolRaw || '(empty)'}`
    )
  }
  const securityProtocol = protocolRaw as SecurityProtocol

  const config: ConnectionConfig = {
    bootstrapServers,
    clientId: inputs.clientId ?? props.get('client.id') ?? 'lagscale',
    securityProtocol,
    connectTimeoutMs: positiveIntProp(props, 'socket.connection.setup.timeout.ms', 5000),
    requestTimeoutMs: positiveIntProp(props, 'request.timeout.ms', 15000),
    clientProperties: Object.fromEntries([...props].filter(([k]) => CLIENT_KEYS.has(k)))
  }

  if (securityProtocol === 'SASL_PLAINTEXT' || securityProtocol === 'SASL_SSL') {
    config.sasl = resolveSasl(props, bootstrapServers, env)
  } else if (props.has('sasl.mechanism') || props.has('sasl.jaas.config')) {
    warn(`${configPath}: sasl.* settings are ignored because security.protocol is ${securityProtocol}`)
  }
  if (securityProtocol === 'SSL' || securityProtocol === 'SASL_SSL') {
    config.tls = resolveTls(props, configPath)
  } else if ([...props.keys()].some((k) => k.startsWith('ssl.'))) {
    warn(`${configPath}: ssl.* settings are ignored because security.protocol is ${securityProtocol}`)
  }
  return config
}

/** An empty environment variable counts as unset, as `export KAFKA_BOOTSTRAP_SERVERS=` means. */
function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value : undefined
}

function readPropertiesFile(path: string): Map<string, string> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : code
    throw usageError(`cannot read command config ${path}: ${why}`)
  }
  // Kafka trims every config value (ConfigDef.parseType), so a trailing space is not part of a path or name.
  return new Map([...parseProperties(text)].map(([k, v]) => [k, v.trim()]))
}

export function parseBootstrapServers(raw: string): string[] {
  const servers = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (servers.length === 0) throw usageError('bootstrap servers must not be empty (host:port[,host:port...])')
  for (const server of servers) {
    const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(server)
    const port = match ? Number(match[2]) : 0
    if (!match || port < 1 || port > 65535) {
      throw usageError(`invalid bootstrap server "${server}": expected host:port`)
    }
  }
  return servers
}

function positiveIntProp(props: Map<string, string>, key: string, fallback: number): number {
  const raw = props.get(key)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) throw usageError(`${key} must be a positive integer; got ${raw}`)
  return value
}

function resolveSasl(props: Map<string, string>, bootstrap: string[], env: NodeJS.ProcessEnv): SaslConfig {
  // Kafka's default mechanism is GSSAPI (Kerberos), which lagscale does not implement.
  const mechanism = (props.get('sasl.mechanism') || 'GSSAPI').toUpperCase()
  if (mechanism === 'GSSAPI') {
    throw usageError(
      `sasl.mechanism ${props.get('sasl.mechanism') ? 'GSSAPI (Kerberos) is not supported' : 'is not set (Kafka defaults to GSSAPI/Kerberos, which lagscale does not support)'}; use one of ${MECHANISMS.join(', ')}`
    )
  }
  if (!(MECHANISMS as readonly string[]).includes(mechanism)) {
    throw usageError(`sasl.mechanism must be one of ${MECHANISMS.join(', ')}; got ${mechanism}`)
  }
  const jaasText = props.get('sasl.jaas.config')
  let jaas: ReturnType<typeof parseJaasConfig> | undefined
  if (jaasText !== undefined) {
    try {
      jaas = parseJaasConfig(jaasText)
    } catch (err) {
      if (err instanceof JaasParseError) throw usageError(err.message)
      throw err
    }
  }

  const handlers = ['sasl.client.callback.handler.class', 'sasl.login.callback.handler.class']
    .map((k) => props.get(k))
    .filter((h): h is string => h !== undefined && h !== '')
  const isMskIam =
    mechanism === 'AWS_MSK_IAM' ||
    jaas?.loginModule === MSK_IAM_LOGIN_MODULE ||
    handlers.some((h) => MSK_IAM_HANDLERS.has(h))

  if (isMskIam) {
    if (mechanism !== 'AWS_MSK_IAM' && mechanism !== 'OAUTHBEARER') {
      throw usageError(`MSK IAM authentication needs sasl.mechanism=AWS_MSK_IAM or OAUTHBEARER; got ${mechanism}`)
    }
    const opts = jaas?.options ?? {}
    const token: OAuthTokenSource = { kind: 'msk-iam', region: mskRegion(bootstrap, env) }
    if (opts['awsProfileName']) token.profile = opts['awsProfileName']
    if (opts['awsRoleArn']) token.roleArn = opts['awsRoleArn']
    if (opts['awsRoleSessionName']) token.roleSessionName = opts['awsRoleSessionName']
    // MSK accepts the signer's token over SASL/OAUTHBEARER on its IAM listener.
    return { mechanism: 'OAUTHBEARER', token }
  }

  if (mechanism === 'AWS_MSK_IAM') {
    throw usageError(`sasl.mechanism=AWS_MSK_IAM needs sasl.jaas.config=${MSK_IAM_LOGIN_MODULE} required;`)
  }

  if (mechanism === 'OAUTHBEARER') {
    const handler = handlers.find((h) => !KAFKA_OAUTHBEARER_HANDLERS.has(h))
    if (handler !== undefined) {
      throw usageError(
        `unsupported OAUTHBEARER callback handler ${handler}; lagscale supports MSK IAM and unsecured JWTs`
      )
    }
    const opts = jaas?.options ?? {}
    const principal = opts['unsecuredLoginStringClaim_sub']
    if (!principal) {
      throw usageError(
        'sasl.mechanism=OAUTHBEARER needs an MSK IAM login module or unsecuredLoginStringClaim_sub in sasl.jaas.config'
      )
    }
    const lifetime = Number(opts['unsecuredLoginLifetimeSeconds'] ?? 3600)
    if (!Number.isInteger(lifetime) || lifetime <= 0) {
      throw usageError('unsecuredLoginLifetimeSeconds must be a positive integer')
    }
    const extensions: Record<string, string> = {}
    for (const [k, v] of Object.entries(opts)) {
      if (k.startsWith('unsecuredLoginExtension_')) extensions[k.slice('unsecuredLoginExtension_'.length)] = v
    }
    return { mechanism, token: { kind: 'unsecured', principal, lifetimeSeconds: lifetime, extensions } }
  }

  if (!jaas) throw usageError(`sasl.mechanism=${mechanism} needs sasl.jaas.config with username and password`)
  const { username, password } = jaas.options
  if (!username || password === undefined) {
    throw usageError(`sasl.jaas.config for ${mechanism} needs username="..." and password="..."`)
  }
  return {
    mechanism: mechanism as 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
    username,
    password: new Secret(password)
  }
}

/** The signing region: from an MSK bootstrap host name, else AWS_REGION / AWS_DEFAULT_REGION. */
export function mskRegion(bootstrap: string[], env: NodeJS.ProcessEnv): string {
  for (const server of bootstrap) {
    const match = /\.kafka(?:-serverless)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?:\d+$/.exec(server)
    if (match?.[1]) return match[1]
  }
  const region = nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION'])
  if (region) return region
  throw usageError(
    'MSK IAM: cannot tell the AWS region from the bootstrap servers (not *.kafka.<region>.amazonaws.com); set AWS_REGION'
  )
}

function resolveTls(props: Map<string, string>, configPath: string | undefined): TlsConfig {
  const tls: TlsConfig = { verifyHostname: (props.get('ssl.endpoint.identification.algorithm') ?? 'https') !== '' }

  const truststoreType = (props.get('ssl.truststore.type') ?? 'PEM').toUpperCase()
  const inlineCa = props.get('ssl.truststore.certificates')
  const caPath = props.get('ssl.truststore.location')
  if (inlineCa) tls.ca = inlineCa
  else if (caPath) {
    if (truststoreType !== 'PEM') {
      throw usageError(
        `ssl.truststore.type ${truststoreType} is not supported; convert the truststore to PEM (ssl.truststore.type=PEM)`
      )
    }
    tls.ca = readTlsFile(caPath, 'ssl.truststore.location', configPath)
    // Java's default truststore type is JKS: a binary store named without ssl.truststore.type lands here.
    if (!tls.ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw usageError(
        `ssl.truststore.location ${caPath} is not a PEM file of CA certificates; convert a JKS or PKCS12 truststore to PEM`
      )
    }
  }

  const keystoreType = (props.get('ssl.keystore.type') ?? 'PEM').toUpperCase()
  const inlineKey = props.get('ssl.keystore.key')
  const inlineChain = props.get('ssl.keystore.certificate.chain')
  const keystorePath = props.get('ssl.keystore.location')
  if (inlineKey || inlineChain) {
    if (!inlineKey || !inlineChain) {
      throw usageError('ssl.keystore.key and ssl.keystore.certificate.chain must be given together')
    }
    tls.key = new Secret(inlineKey)
    tls.cert = inlineChain
  } else if (keystorePath) {
    if (keystoreType !== 'PEM') {
      throw usageError(`ssl.keystore.type ${keystoreType} is not supported; use a PEM keystore (ssl.keystore.type=PEM)`)
    }
    // A PEM keystore file holds the private key followed by the certificate chain.
    const pem = readTlsFile(keystorePath, 'ssl.keystore.location', configPath)
    const key =
      /-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----/.exec(
        pem
      )
    const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
    if (!key || !certs) {
      throw usageError(`ssl.keystore.location ${keystorePath} must hold a PEM private key and certificate chain`)
    }
    tls.key = new Secret(key[0])
    tls.cert = certs.join('\n')
  }
  const keyPassword = props.get('ssl.key.password')
  if (keyPassword) tls.keyPassphrase = new Secret(keyPassword)
  return tls
}

function readTlsFile(path: string, key: string, configPath: string | undefined): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw new UserError(`${configPath ?? 'command config'}: cannot read ${key} ${path}`, 2)
  }
}

/** A one-line description of where we connect and how, safe to log (no secrets). */
export function describeConnection(config: ConnectionConfig): string {
  const auth = config.sasl
    ? config.sasl.mechanism === 'OAUTHBEARER'
      ? `OAUTHBEARER (${config.sasl.token.kind === 'msk-iam' ? `MSK IAM, ${config.sasl.token.region}` : 'unsecured JWT'})`
      : `${config.sasl.mechanism} as ${config.sasl.username}`
    : 'no SASL'
  return `${config.bootstrapServers.join(',')} via ${config.securityProtocol}, ${auth}`
}
