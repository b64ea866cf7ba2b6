import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { BaseOptions, SASLOptions } from '@platformatic/kafka'
import type { ConnectionConfig } from './connection-config.ts'
import { oauthTokenProvider } from './oauth-token.ts'
import { retryDelay } from './retry-policy.ts'

export type ClientRole = 'admin' | 'producer' | 'consumer'

/** The client id a client of `role` sends: what a group's member list shows for a consumer. */
export function roleClientId(clientId: string, role?: ClientRole): string {
  return role ? `${clientId}-${role}` : clientId
}

/** The options every @platformatic/kafka client (admin, producer, consumer) is built with. */
export function baseClientOptions(config: ConnectionConfig, role?: ClientRole): BaseOptions {
  const options: BaseOptions = {
    clientId: roleClientId(config.clientId, role),
    bootstrapBrokers: config.bootstrapServers,
    connectTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    timeout: config.requestTimeoutMs,
    // A few quick retries of network errors, so an unreachable cluster fails in about a second;
    // retriable broker errors are retried longer, with backoff (retry-policy.ts).
    retries: 2,
    retryDelay
  }
  const sasl = saslOptions(config)
  if (sasl) options.sasl = sasl
  const tls = tlsOptions(config)
  if (tls) options.tls = tls
  return options
}

function saslOptions(config: ConnectionConfig): SASLOptions | undefined {
  const sasl = config.sasl
  if (!sasl) return undefined
  if (sasl.mechanism === 'OAUTHBEARER') {
    const options: SASLOptions = {
      mechanism: 'OAUTHBEARER',
      token: oauthTokenProvider(sasl.token),
      authBytesValidator: validateOAuthBearerResponse
    }
    if (sasl.token.kind === 'unsecured' && Object.keys(sasl.token.extensions).length > 0) {
      options.oauthBearerExtensions = sasl.token.extensions
    }
    return options
  }
  // Providers, not strings: the password stays inside the Secret until the handshake needs it.
  const password = sasl.password
  return { mechanism: sasl.mechanism, username: sasl.username, password: () => password.reveal() }
}

/**
 * A broker that rejects an OAUTHBEARER token answers with an error challenge
 * (RFC 7628 section 3.2.2, `{"status":"invalid_token"}`) instead of an error code.
 * Without this check the client takes the challenge for success, carries on
 * mid-handshake and fails later with a misleading SASL state error.
 */
export function validateOAuthBearerResponse(
  authBytes: Buffer,
  callback: (error: Error | null, authBytes: Buffer) => void
): void {
  let status: unknown
  if (authBytes.length > 0) {
    try {
      status = (JSON.parse(authBytes.toString('utf8')) as { status?: unknown }).status
    } catch {
      // Not an error challenge.
    }
  }
  if (status !== undefined) {
    callback(new OAuthBearerRejected(`the broker rejected the OAUTHBEARER token (${String(status)})`), authBytes)
    return
  }
  callback(null, authBytes)
}

/** Carries the platformatic authentication error code, so errors.ts reports "authentication failed". */
class OAuthBearerRejected extends Error {
  readonly code = 'PLT_KFK_AUTHENTICATION'
}

function tlsOptions(config: ConnectionConfig): TlsOptions | undefined {
  const tls = config.tls
  if (!tls) return undefined
  const options: TlsOptions = {}
  if (tls.ca) options.ca = tls.ca
  if (tls.cert) options.cert = tls.cert
  if (tls.key) options.key = tls.key.reveal()
  if (tls.keyPassphrase) options.passphrase = tls.keyPassphrase.reveal()
  if (!tls.verifyHostname) options.checkServerIdentity = () => undefined
  return options
}
