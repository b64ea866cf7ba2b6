import {
  type GenerateAuthTokenOptions,
  type GenerateAuthTokenResponse,
  generateAuthToken,
  generateAuthTokenFromProfile,
  generateAuthTokenFromRole
} from 'aws-msk-iam-sasl-signer-js'
import { UserError } from '../errors.ts'
import type { OAuthTokenSource } from './connection-config.ts'

type MskIamSource = Extract<OAuthTokenSource, { kind: 'msk-iam' }>

/** A token is handed out again while it has at least this long to live (MSK IAM tokens live 15 minutes). */
const REUSE_MARGIN_MS = 5 * 60_000

/** Tokens per MSK IAM source, shared by every client in the process; a failed lookup is not kept. */
const mskTokens = new Map<string, Promise<GenerateAuthTokenResponse>>()

/** Returns a function the Kafka client calls for a fresh OAUTHBEARER token on every (re)authentication. */
export function oauthTokenProvider(source: OAuthTokenSource): () => Promise<string> {
  if (source.kind === 'msk-iam') return () => mskIamToken(source)
  return async () => unsecuredJwt(source.principal, source.lifetimeSeconds)
}

/**
 * Every connection to every broker authenticates, so without sharing each one would walk the
 * AWS credential chain again (an STS AssumeRole call per connection with awsRoleArn).
 */
async function mskIamToken(source: MskIamSource): Promise<string> {
  const key = JSON.stringify([source.region, source.profile, source.roleArn, source.roleSessionName])
  const cached = mskTokens.get(key)
  if (cached) {
    const response = await cached.catch(() => undefined)
    if (response && response.expiryTime - Date.now() > REUSE_MARGIN_MS) return response.token
    if (mskTokens.get(key) !== cached) return mskIamToken(source)
  }
  const pending = signMskIamToken(source)
  mskTokens.set(key, pending)
  try {
    return (await pending).token
  } catch (err) {
    if (mskTokens.get(key) === pending) mskTokens.delete(key)
    throw err
  }
}

async function signMskIamToken(source: MskIamSource): Promise<GenerateAuthTokenResponse> {
  const base: GenerateAuthTokenOptions = { region: source.region }
  try {
    return source.roleArn
      ? await generateAuthTokenFromRole({
          ...base,
          awsRoleArn: source.roleArn,
          ...(source.roleSessionName ? { awsRoleSessionName: source.roleSessionName } : {})
        })
      : source.profile
        ? await generateAuthTokenFromProfile({ ...base, awsProfileName: source.profile })
        : await generateAuthToken(base)
  } catch (err) {
    // The SDK's messages name the provider or profile that failed, never a key.
    const why = err instanceof Error ? err.message : String(err)
    const from = source.roleArn
      ? `assuming role ${source.roleArn}`
      : source.profile
        ? `profile ${source.profile}`
        : 'the default AWS credential chain (env, AWS_PROFILE, SSO, instance or task role)'
    throw new UserError(`MSK IAM: cannot get AWS credentials from ${from}: ${why}`, 1, { cause: err })
  }
}

/**
 * An unsecured JWS (`alg: none`) with a `sub` claim, the token Kafka's
 * OAuthBearerUnsecuredLoginCallbackHandler produces. Only for brokers that use the
 * unsecured validator (development, tests); never accepted by a production cluster.
 */
export function unsecuredJwt(principal: string, lifetimeSeconds: number, now = Date.now()): string {
  const iat = Math.floor(now / 1000)
  const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')
  const payload = Buffer.from(JSON.stringify({ sub: principal, iat, exp: iat + lifetimeSeconds })).toString('base64url')
  return `${header}.${payload}.`
}
