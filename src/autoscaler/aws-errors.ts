import { UserError } from '../errors.ts'

/** What the AWS SDK puts on the errors it throws (service exceptions, credential and network errors). */
interface AwsErrorLike {
  name?: string
  message?: string
  code?: string
  $metadata?: { httpStatusCode?: number; attempts?: number }
  cause?: unknown
}

/** The IAM action that failed and what it was about, for the sentence the user reads. */
export interface AwsCallContext {
  /** IAM action, e.g. `ecs:UpdateService`. */
  action: string
  /** E.g. `ECS service "consumer" in cluster "lagscale"`. */
  target: string
  /** The custom endpoint, when one is set (tests, VPC endpoints): named when it cannot be reached. */
  endpoint?: string | undefined
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedException'
])
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidAccessKeyId'
])
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown'
])
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH'])

function chain(err: unknown): AwsErrorLike[] {
  const out: AwsErrorLike[] = []
  let e = err
  while (e && typeof e === 'object' && out.length < 8) {
    out.push(e as AwsErrorLike)
    e = (e as AwsErrorLike).cause
  }
  return out
}

export function isAccessDenied(err: unknown): boolean {
  const e = chain(err)[0]
  return (
    ACCESS_DENIED.has(e?.name ?? '') || (e?.$metadata?.httpStatusCode === 403 && !BAD_CREDENTIALS.has(e.name ?? ''))
  )
}

export function isThrottling(err: unknown): boolean {
  const e = chain(err)[0]
  return THROTTLING.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429
}

/** AWS messages can span lines (signature mismatches quote the canonical request): keep the first, bounded. */
function firstLine(message: string | undefined): string {
  const line = (message ?? '').split('\n')[0]?.trim() ?? ''
  return line.length > 200 ? `${line.slice(0, 200)}...` : line
}

/**
 * Turns what the AWS SDK threw into one sentence a user can act on: no stack, no request
 * dump, nothing from the credentials. Callers handle the service-specific cases
 * (a missing ECS service) first; this covers what every AWS call shares.
 */
export function awsUserError(err: unknown, ctx: AwsCallContext): UserError {
  if (err instanceof UserError) return err
  const all = chain(err)
  const e = all[0] ?? {}
  const name = e.name ?? ''
  if (isThrottling(err)) {
    const attempts = e.$metadata?.attempts
    return new UserError(
      `AWS kept throttling ${ctx.action} on ${ctx.target}${attempts ? ` after ${attempts} attempts` : ''}; lengthen the autoscaler's interval or ask for a higher API rate quota`,
      1,
      { cause: err }
    )
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new UserError(
      `AWS rejected the credentials used for ${ctx.action} (${name}); check AWS_PROFILE or the access key, or refresh an expired session`,
      1,
      { cause: err }
    )
  }
  if (isAccessDenied(err)) {
    return new UserError(
      `${ctx.action} on ${ctx.target} was denied; the IAM role or user needs the ${ctx.action} permission (see docs/aws-backends.md)`,
      1,
      { cause: err }
    )
  }
  if (name === 'CredentialsProviderError' || all.some((x) => /could not load credentials/i.test(x.message ?? ''))) {
    return new UserError(
      `no AWS credentials found for ${ctx.action}; set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an IAM role`,
      1,
      { cause: err }
    )
  }
  if (all.some((x) => /region is missing/i.test(x.message ?? ''))) {
    return new UserError(`no AWS region for ${ctx.action}; pass --aws-region or set AWS_REGION`, 1, { cause: err })
  }
  const net = all.find((x) => NETWORK_CODES.has(x.code ?? '') || x.name === 'TimeoutError')
  if (net) {
    return new UserError(
      `cannot reach AWS for ${ctx.action}${ctx.endpoint ? ` at ${ctx.endpoint}` : ''} (${net.code ?? net.name})`,
      1,
      { cause: err }
    )
  }
  const detail = firstLine(e.message)
  return new UserError(
    `${ctx.action} on ${ctx.target} failed: ${name || 'error'}${detail && detail !== name ? `: ${detail}` : ''}`,
    1,
    { cause: err }
  )
}
