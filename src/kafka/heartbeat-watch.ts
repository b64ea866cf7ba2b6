import type { RawConsumer } from './clients.ts'

/** How often the watch looks at the heartbeats. */
const CHECK_EVERY_MS = 1000

/**
 * Calls `onLost` once when the consumer's heartbeats have failed for longer than the session
 * timeout. @platformatic/kafka keeps heartbeating a coordinator that went away (a broker
 * killed or restarting) without ending the consumer's stream; by then the group has expired
 * the member, so the caller must close it and join again as a new one, as Java's consumer
 * does. Returns a function that stops the watch.
 */
export function watchHeartbeats(
  consumer: RawConsumer,
  sessionTimeoutMs: number,
  onLost: (lastError: unknown) => void
): () => void {
  let failingSince: number | undefined
  let lastError: unknown
  let fired = false
  const onError = (payload: { error?: unknown } | undefined): void => {
    failingSince ??= performance.now()
    lastError = payload?.error
  }
  const onOk = (): void => {
    failingSince = undefined
  }
  consumer.on('consumer:heartbeat:error', onError)
  consumer.on('consumer:heartbeat:end', onOk)
  const timer = setInterval(() => {
    if (fired || failingSince === undefined || performance.now() - failingSince <= sessionTimeoutMs) return
    fired = true
    onLost(lastError ?? new Error(`heartbeats failed for ${Math.round(sessionTimeoutMs / 1000)} s`))
  }, CHECK_EVERY_MS)
  timer.unref()
  return () => {
    clearInterval(timer)
    consumer.off('consumer:heartbeat:error', onError)
    consumer.off('consumer:heartbeat:end', onOk)
  }
}
