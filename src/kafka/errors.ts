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
  ILLEGAL_SASL_STATE: 'SASL handshake failed',
  RECORD_LIST_TOO_LARGE: 'record too large for the broker',
  MESSAGE_TOO_LARGE: 'record too large for the broker',
  NOT_ENOUGH_REPLICAS: 'not enough in-sync replicas for acks=all'
}

interface ErrorLike {
  message?: string
  code?: string
  apiId?: string
  serverErrorMessage?: string | null
  errors?: unknown[]
  cause?: unknown
}

/** All errors in the tree (AggregateError children and causes), depth-first. */
function flatten(err: unknown, out: ErrorLike[] = [], depth = 0): ErrorLike[] {
  if (!err || typeof err !== 'object' || depth > 8) return out
  const e = err as ErrorLike
  out.push(e)
  for (const child of e.errors ?? []) flatten(child, out, depth + 1)
  if (e.cause) flatten(e.cause, out, depth + 1)
  return out
}

/**
 * Turns whatever a Kafka client threw into one sentence a user can act on.
 * `context` says what we were doing ("create topic orders").
 */
export function toUserError(err: unknown, context?: string): UserError {
  if (err instanceof UserError) return err
  const all = flatten(err)
  const prefix = context ? `${context}: ` : ''

  for (const e of all) {
    if (e.apiId && PROTOCOL_MESSAGES[e.apiId]) {
      const detail = e.serverErrorMessage ? ` (${e.serverErrorMessage})` : ''
      return new UserError(`${prefix}${PROTOCOL_MESSAGES[e.apiId]}${detail}`)
    }
  }
  const auth = all.find((e) => e.code === 'PLT_KFK_AUTHENTICATION' || /authenticat/i.test(e.message ?? ''))
  if (auth) {
    const detail = all.map((e) => e.serverErrorMessage).find(Boolean)
    return new UserError(`${prefix}authentication failed${detail ? `: ${detail}` : ''}`)
  }
  const sys = all.find((e) => /^E[A-Z]+$/.test(e.code ?? ''))
  if (sys?.code === 'ECONNREFUSED')
    return new UserError(`${prefix}cannot connect to Kafka: connection refused (is the broker running?)`)
  if (sys?.code === 'ENOTFOUND' || sys?.code === 'EAI_AGAIN') {
    return new UserError(`${prefix}cannot connect to Kafka: unknown host`)
  }
  if (sys?.code === 'ECONNRESET' || sys?.code === 'EPIPE') {
    return new UserError(`${prefix}the broker closed the connection (wrong security.protocol or TLS settings?)`)
  }
  const tls = all.find((e) =>
    /certificate|self[- ]signed|SSL|TLS|ERR_SSL|wrong version number/i.test(`${e.code} ${e.message}`)
  )
  if (tls) return new UserError(`${prefix}TLS handshake failed: ${tls.message}`)
  if (all.some((e) => e.code === 'PLT_KFK_TIMEOUT' || /timed? ?out/i.test(e.message ?? ''))) {
    return new UserError(`${prefix}Kafka did not answer in time (is the bootstrap server right and reachable?)`)
  }
  if (all.some((e) => e.code === 'PLT_KFK_NETWORK')) {
    return new UserError(`${prefix}cannot connect to Kafka: ${deepestMessage(all)}`)
  }
  const first = all.find((e) => e.apiId)
  if (first)
    return new UserError(`${prefix}${first.apiId}${first.serverErrorMessage ? `: ${first.serverErrorMessage}` : ''}`)
  return new UserError(`${prefix}${deepestMessage(all) || String(err)}`)
}

function deepestMessage(all: ErrorLike[]): string {
  for (let i = all.length - 1; i >= 0; i--) {
    const m = all[i]?.message
    if (m) return m
  }
  return ''
}
