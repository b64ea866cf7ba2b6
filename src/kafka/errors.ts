import { UserError } from '../errors.ts'

/** Kafka protocol error ids that a user causes, and the sentence that tells them what happened. */
const PROTOCOL_MESSAGES: Record<string, string> = {
  TOPIC_ALREADY_EXISTS: 'the topic already exists',
  UNKNOWN_TOPIC_OR_PARTITION: 'the topic does not exist',
  UNKNOWN_TOPIC_ID: 'the topic does not exist',
  INVALID_PARTITIONS: 'invalid number of partitions',
  INVALID_REPLICATION_FACTOR: 'invalid replication factor',
  INVALID_REPLICA_ASSIGNMENT: 'invalid replica assignment',
  INVALID_TOPIC_EXCEPTION: 'invalid topic name',
  INVALID_CONFIG: 'invalid topic config',
  POLICY_VIOLATION: 'rejected by the cluster policy',
  GROUP_ID_NOT_FOUND: 'the consumer group does not exist',
  NON_EMPTY_GROUP: 'the consumer group still has active members; stop them first',
  GROUP_AUTHORIZATION_FAILED: 'not authorized for this consumer group',
  TOPIC_AUTHORIZATION_FAILED: 'not authorized for this topic',
  CLUSTER_AUTHORIZATION_FAILED: 'not authorized for this cluster operation',
  SASL_AUTHENTICATION_FAILED: 'authentication failed',
  UNSUPPORTED_SASL_MECHANISM: 'the broker does not accept this SASL mechanism',
  ILLEGAL_SASL_STATE: 'the broker listener does not expect SASL here (check security.protocol and the port)',
  RECORD_LIST_TOO_LARGE: 'record too large for the broker',
  MESSAGE_TOO_LARGE: 'record too large for the broker',
  NOT_ENOUGH_REPLICAS: 'not enough in-sync replicas for acks=all'
}

interface ErrorLike {
  message?: string
  code?: string
  apiId?: string
  /** The client's verdict: whether the request may succeed if tried again. */
  canRetry?: boolean
  /** The client's hint that the cluster's metadata (who leads what) is out of date. */
  hasStaleMetadata?: boolean
  serverErrorMessage?: string | null
  errors?: unknown[]
  cause?: unknown
  /** Set by the retry policy on an error it stopped retrying at its deadline. */
  retriedForMs?: number
  /** The decoded response of a failed request (SaslHandshake lists the enabled mechanisms). */
  response?: { mechanisms?: unknown }
}

/** All errors in the tree (AggregateError children and causes), depth-first. */
export function flatten(err: unknown, out: ErrorLike[] = [], depth = 0): ErrorLike[] {
  if (!err || typeof err !== 'object' || depth > 8) return out
  const e = err as ErrorLike
  out.push(e)
  for (const child of e.errors ?? []) flatten(child, out, depth + 1)
  if (e.cause) flatten(e.cause, out, depth + 1)
  return out
}

/** Node's codes for a broker certificate that the truststore does not vouch for. */
const UNTRUSTED_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE'
])

export interface ErrorSituation {
  /**
   * The client had been talking to the cluster before this error: a refused or closed
   * connection then means a broker went away (down, restarting, failing over), not a wrong
   * address or security setting, and the message says so.
   */
  connected?: boolean
  /** The bootstrap servers, to name the broker when the error does not. */
  brokers?: readonly string[]
}

/**
 * Turns whatever a Kafka client threw into one sentence a user can act on.
 * `context` says what we were doing ("create topic orders").
 */
export function toUserError(err: unknown, context?: string, situation: ErrorSituation = {}): UserError {
  if (err instanceof UserError) return err
  const all = flatten(err)
  const prefix = context ? `${context}: ` : ''

  // Our own errors raised inside the client (an OAUTHBEARER token provider that found no credentials).
  const own = all.find((e): e is UserError => e instanceof UserError)
  if (own) return new UserError(`${prefix}${own.message}`, own.exitCode, { cause: err })

  const enabled = all.map((e) => e.response?.mechanisms).find((m): m is string[] => Array.isArray(m) && m.length > 0)
  if (enabled && all.some((e) => e.apiId === 'UNSUPPORTED_SASL_MECHANISM')) {
    return new UserError(`${prefix}the broker does not accept this SASL mechanism (it offers ${enabled.join(', ')})`)
  }
  for (const e of all) {
    if (e.apiId && PROTOCOL_MESSAGES[e.apiId]) {
      const detail = e.serverErrorMessage ? ` (${e.serverErrorMessage})` : ''
      return new UserError(`${prefix}${PROTOCOL_MESSAGES[e.apiId]}${detail}`)
    }
  }
  const auth = all.find((e) => e.code === 'PLT_KFK_AUTHENTICATION' || /authenticat/i.test(e.message ?? ''))
  if (auth) {
    const detail =
      all.map((e) => e.serverErrorMessage).find(Boolean) ??
      all.find((e) => e.code === 'PLT_KFK_AUTHENTICATION' && !/^SASL authentication failed\.?$/.test(e.message ?? ''))
        ?.message
    return new UserError(`${prefix}authentication failed${detail ? `: ${detail}` : ''}`)
  }

  const tls = tlsProblem(all)
  if (tls) return new UserError(`${prefix}${tls}`)

  const sys = all.find((e) => /^E[A-Z]+$/.test(e.code ?? ''))
  if (situation.connected && isLostConnection(all, sys?.code)) {
    return new UserError(
      `${prefix}lost the connection to ${brokerName(all, situation.brokers)} (broker down or restarting?)`
    )
  }
  if (sys?.code === 'ECONNREFUSED')
    return new UserError(`${prefix}cannot connect to Kafka: connection refused (is the broker running?)`)
  if (sys?.code === 'ENOTFOUND' || sys?.code === 'EAI_AGAIN') {
    return new UserError(`${prefix}cannot connect to Kafka: unknown host`)
  }
  if (
    sys?.code === 'ECONNRESET' ||
    sys?.code === 'EPIPE' ||
    all.some((e) => e.code === 'PLT_KFK_NETWORK' && /^Connection closed/.test(e.message ?? ''))
  ) {
    return new UserError(
      `${prefix}the broker closed the connection (does security.protocol match the listener? does it need SASL or a client certificate?)`
    )
  }
  if (all.some((e) => e.code === 'PLT_KFK_TIMEOUT' || /timed? ?out/i.test(e.message ?? ''))) {
    return new UserError(`${prefix}Kafka did not answer in time (is the bootstrap server right and reachable?)`)
  }
  if (all.some((e) => e.code === 'PLT_KFK_NETWORK')) {
    return new UserError(`${prefix}cannot connect to Kafka: ${deepestMessage(all)}`)
  }
  const first = all.find((e) => e.apiId)
  if (first) {
    const retried = all.find((e) => typeof e.retriedForMs === 'number')?.retriedForMs
    const after = retried === undefined ? '' : ` (still failing after ${Math.round(retried / 1000)} s of retries)`
    return new UserError(
      `${prefix}${first.apiId}${first.serverErrorMessage ? `: ${first.serverErrorMessage}` : ''}${after}`
    )
  }
  return new UserError(`${prefix}${deepestMessage(all) || String(err)}`)
}

/** A sentence for a TLS failure, or undefined when the errors are not about TLS. */
function tlsProblem(all: ErrorLike[]): string | undefined {
  // @platformatic/kafka's checks: plaintext bytes where TLS was expected and the reverse.
  if (all.some((e) => e.code === 'PLT_KFK_USER' && /^Broker requires TLS/.test(e.message ?? ''))) {
    return 'the broker listener expects TLS; set security.protocol=SSL or SASL_SSL in --command-config'
  }
  if (
    all.some((e) => e.code === 'PLT_KFK_USER' && /^TLS handshake failed/.test(e.message ?? '')) ||
    all.some((e) => /wrong version number|packet length too long/i.test(e.message ?? ''))
  ) {
    return 'TLS handshake failed: the broker listener does not speak TLS (security.protocol PLAINTEXT or SASL_PLAINTEXT?)'
  }
  const untrusted = all.find((e) => UNTRUSTED_CERT_CODES.has(e.code ?? ''))
  if (untrusted) {
    return `TLS handshake failed: the broker's certificate is not trusted (${untrusted.message}); set ssl.truststore.location to the CA that signed it`
  }
  const hostname = all.find((e) => e.code === 'ERR_TLS_CERT_ALTNAME_INVALID')
  if (hostname) {
    return `TLS handshake failed: ${hostname.message} (ssl.endpoint.identification.algorithm= turns this check off)`
  }
  const expired = all.find((e) => e.code === 'CERT_HAS_EXPIRED' || e.code === 'CERT_NOT_YET_VALID')
  if (expired) return `TLS handshake failed: the broker's certificate ${expired.message}`
  const alert = all.find((e) => /^ERR_SSL_.*ALERT/.test(e.code ?? ''))
  if (alert)
    return `TLS handshake failed: the broker refused the connection (${alert.code}); check the client certificate`
  const other = all.find((e) => /certificate|self[- ]signed|ERR_SSL|ERR_TLS/i.test(`${e.code} ${e.message}`))
  if (other) return `TLS handshake failed: ${other.message}`
  return undefined
}

function isLostConnection(all: ErrorLike[], sysCode: string | undefined): boolean {
  if (sysCode === 'ECONNREFUSED' || sysCode === 'ECONNRESET' || sysCode === 'EPIPE') return true
  return all.some((e) => e.code === 'PLT_KFK_NETWORK' && /^Connection (closed|error)/.test(e.message ?? ''))
}

/** The broker's address from the client's message ("Connection to host:port failed."), else from the bootstrap list. */
function brokerName(all: ErrorLike[], brokers: readonly string[] | undefined): string {
  for (const e of all) {
    const address = /Connection to (\S+:\d+)/.exec(e.message ?? '')?.[1]
    if (address) return address
  }
  if (brokers?.length === 1) return brokers[0]!
  if (brokers && brokers.length > 1) return `a broker of ${brokers.join(',')}`
  return 'the broker'
}

function deepestMessage(all: ErrorLike[]): string {
  for (let i = all.length - 1; i >= 0; i--) {
    const m = all[i]?.message
    if (m) return m
  }
  return ''
}
