/**
 * Retries as Java's clients do: an error Kafka marks retriable (a leader election, a group or
 * transaction coordinator still loading or moved) is retried with backoff until a deadline,
 * not given up after @platformatic/kafka's fixed few attempts, which end in ~0.5 s - too soon
 * for a coordinator that loads for seconds after a cluster starts (seen: `lagscale produce`
 * failing with COORDINATOR_LOAD_IN_PROGRESS on a new 3-broker cluster), or for a partition
 * whose leader just died (the cluster lists the dead broker as its leader until the broker's
 * session expires, 9 s by default: requests to it are refused meanwhile). So network errors
 * are retried until the deadline too once the client has reached the cluster, with fresh
 * metadata each time; a cluster never reached keeps the few quick retries, so a wrong address
 * still fails in about a second.
 *
 * Built on the client's exported `kPerformWithRetry` step (every request of Admin and Producer
 * goes through it); upstream this would be a client option (a retry deadline next to
 * `retries`). Not for consumers: their group requests share the step (see clients.ts).
 */
import { type Base, kOptions, kPerformWithRetry } from '@platformatic/kafka'
import { flatten } from './errors.ts'

/** Retriable in Kafka's sense, but waiting would only delay "the topic does not exist". */
const NOT_WORTH_WAITING = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'])

const BACKOFF_FIRST_MS = 100
const BACKOFF_MAX_MS = 1000

/**
 * The broker's retriable error code (e.g. NOT_LEADER_OR_FOLLOWER) when every Kafka protocol
 * error in `err` is one that is worth waiting for; undefined otherwise (no protocol error, or
 * one that retrying cannot fix).
 */
export function retriableProtocolError(err: unknown): string | undefined {
  const ids = flatten(err).filter((e) => e.apiId !== undefined)
  if (ids.length === 0) return undefined
  const ok = ids.every((e) => e.canRetry === true && !NOT_WORTH_WAITING.has(e.apiId!))
  return ok ? ids[0]!.apiId : undefined
}

function hasStaleMetadata(err: unknown): boolean {
  return flatten(err).some((e) => e.hasStaleMetadata === true)
}

/** True for a connection that failed, closed or timed out (the client's NetworkError family). */
export function isNetworkError(err: unknown): boolean {
  return flatten(err).some((e) => e.code === 'PLT_KFK_NETWORK')
}

const COORDINATOR_ERRORS = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS'])

/** True when the group (or transaction) coordinator is gone, moving or loading. */
export function isCoordinatorError(err: unknown): boolean {
  return flatten(err).some((e) => e.apiId !== undefined && COORDINATOR_ERRORS.has(e.apiId))
}

/** The delay before retry number `attempt` (1-based) of a failed request: 100, 200, 400, 800, then 1000 ms. */
export function retryDelayMs(attempt: number): number {
  return Math.min(BACKOFF_FIRST_MS * 2 ** Math.max(0, attempt - 1), BACKOFF_MAX_MS)
}

/** For @platformatic/kafka's `retryDelay` option. */
export const retryDelay = (_client: unknown, _operationId: string, attempt: number) => retryDelayMs(attempt)

type PerformWithRetry = Base[typeof kPerformWithRetry]

/**
 * Makes `client` retry retriable protocol errors until `deadlineMs` after the request began,
 * and everything else the client's own `retries` times, as before.
 */
export function retryRetriableErrors<C extends Base>(client: C, deadlineMs: number): C {
  const original = client[kPerformWithRetry].bind(client) as PerformWithRetry
  /** Whether this client has ever had the cluster's metadata (it reached the cluster). */
  let reached = false
  const patched = ((
    operationId: string,
    operation: Parameters<PerformWithRetry>[1],
    callback: Parameters<PerformWithRetry>[2],
    attempt = 0,
    errors: Error[] = [],
    shouldSkipRetry?: (e: Error) => boolean,
    retryLimit?: number
  ) => {
    // Later attempts come back through here with the policy already in place.
    if (attempt > 0) return original(operationId, operation, callback, attempt, errors, shouldSkipRetry, retryLimit)
    const startedAt = Date.now()
    if (client.currentMetadata !== undefined) reached = true
    const ordinary = retryLimit ?? (client[kOptions] as { retries: number }).retries
    let failures = 0
    const skip = (e: Error): boolean => {
      failures++
      if (shouldSkipRetry?.(e)) return true
      const withinDeadline = Date.now() - startedAt < deadlineMs
      if (retriableProtocolError(e)) {
        // NOT_LEADER_OR_FOLLOWER and the like: the next attempt must ask who leads now (the
        // client itself refreshes only once, then would retry the old leader until the deadline).
        if (withinDeadline && hasStaleMetadata(e)) client.clearMetadata()
        // Giving up: say for how long it was tried (toUserError adds it to the message).
        else if (!withinDeadline) Object.assign(e, { retriedForMs: Date.now() - startedAt })
        return !withinDeadline
      }
      if (client.currentMetadata !== undefined) reached = true
      if (isNetworkError(e) && reached && withinDeadline) {
        // A broker we knew went away: ask the cluster again who leads what.
        client.clearMetadata()
        return false
      }
      return failures > ordinary
    }
    return original(operationId, operation, callback, 0, errors, skip, Number.MAX_SAFE_INTEGER)
  }) as PerformWithRetry
  Object.defineProperty(client, kPerformWithRetry, { value: patched, configurable: true, writable: true })
  return client
}
