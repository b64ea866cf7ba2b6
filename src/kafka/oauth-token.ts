import {
  type GenerateAuthTokenOptions,
  generateAuthToken,
  generateAuthTokenFromProfile,
  generateAuthTokenFromRole
} from 'aws-msk-iam-sasl-signer-js'
import type { OAuthTokenSource } from './connection-config.ts'

/** Returns a function the Kafka client calls for a fresh OAUTHBEARER token on every (re)authentication. */
export function oauthTokenProvider(source: OAuthTokenSource): () => Promise<string> {
  if (source.kind === 'msk-iam') return () => mskIamToken(source)
  return async () => unsecuredJwt(source.principal, source.lifetimeSeconds)
}

async function mskIamToken(source: Extract<OAuthTokenSource, { kind: 'msk-iam' }>): Promise<string> {
  const base: GenerateAuthTokenOptions = { region: source.region }
  const response = source.roleArn
    ? await generateAuthTokenFromRole({
        ...base,
        awsRoleArn: source.roleArn,
        ...(source.roleSessionName ? { awsRoleSessionName: source.roleSessionName } : {})
      })
    : source.profile
      ? await generateAuthTokenFromProfile({ ...base, awsProfileName: source.profile })
      : await generateAuthToken(base)
  return response.token
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
