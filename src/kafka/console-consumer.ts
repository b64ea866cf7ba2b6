import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { UserError } from '../errors.ts'
import { createConsumer, type RawConsumedMessage } from './clients.ts'
import type { ConnectionConfig } from './connection-config.ts'
import { type FormatterSettings, formatRecord } from './console-format.ts'
import { toUserError } from './errors.ts'
import { watchHeartbeats } from './heartbeat-watch.ts'
import { forEachMessage } from './message-loop.ts'
import { ReconnectBackoff } from './reconnect-backoff.ts'
import { isNetworkError, retriableProtocolError } from './retry-policy.ts'
import { requireTopic } from './topics.ts'

export interface ConsoleConsumeOptions {
  topic: string
  /** With a group, offsets are committed after each record is printed (at-least-once). */
  group?: string
  fromBeginning: boolean
  maxMessages?: number
  /** Exit when no record arrives for this long. */
  timeoutMs?: number
  output: Writable
  settings: FormatterSettings
  /** Called once the consumer is assigned and fetching; tests and scripts wait on it. */
  onReady?: () => void
  /** One line when the cluster went away and the consumer reconnects (the CLI prints it on stderr). */
  onStatus?: (message: string) => void
  signal?: AbortSignal
}

const SESSION_TIMEOUT_MS = 10_000

/**
 * kafka-console-consumer. Without `group` it uses a throw-away group and commits
 * nothing, as Kafka's tool does. Returns the number of records printed.
 *
 * When the cluster goes away after the consumer has started (a broker killed, restarting, a
 * leader or coordinator moving), it says so on `onStatus` and reconnects with backoff until
 * the cluster answers: with a group from the group's commits, without one from the next
 * record after the last it printed on each partition (at-least-once either way). The idle
 * timeout (`timeoutMs`) keeps running through an outage.
 */
export async function consoleConsume(config: ConnectionConfig, options: ConsoleConsumeOptions): Promise<number> {
  await requireTopic(config, options.topic, `consume from ${options.topic}`)

  const commits = options.group !== undefined
  const groupId = options.group ?? `lagscale-console-consumer-${randomBytes(4).toString('hex')}`
  const state: ConsoleState = { printed: 0, lastMessageAt: Date.now(), resume: undefined, started: false }
  const backoff = new ReconnectBackoff()
  for (let attempt = 0; ; attempt++) {
    let outcome: SessionOutcome
    try {
      outcome = await consumeSession(config, options, groupId, commits, state)
    } catch (err) {
      // Before the first start, an error is the user's to fix (address, credentials, topic).
      if (!state.started || !isOutage(err)) {
        throw toUserError(err, `consume from ${options.topic}`, {
          connected: state.started,
          brokers: config.bootstrapServers
        })
      }
      outcome = { lost: err, connected: false }
    }
    if (!('lost' in outcome)) return state.printed
    if (outcome.connected) {
      attempt = 0
      backoff.reset()
    }
    const why = toUserError(outcome.lost, undefined, { connected: true, brokers: config.bootstrapServers }).message
    state.lostAt ??= Date.now()
    if (attempt === 0) options.onStatus?.(`${why}; reconnecting`)
    else if (attempt % 10 === 0) options.onStatus?.(`still reconnecting (attempt ${attempt}): ${why}`)
    const waited = await sleep(backoff.next(), true, { signal: options.signal }).catch(() => false)
    if (!waited) return state.printed
    if (options.timeoutMs !== undefined && Date.now() - state.lastMessageAt >= options.timeoutMs) return state.printed
  }
}

interface ConsoleState {
  printed: number
  lastMessageAt: number
  /** Without a group: where each partition goes on after a reconnect (next offset to print). */
  resume: Map<string, bigint> | undefined
  /** Set once the first consumer joined: from then on, connection errors are outages. */
  started: boolean
  /** When the current outage began (undefined while connected). */
  lostAt?: number | undefined
}

/** The session ended by the user's terms, or it lost the cluster (`connected`: it had joined first). */
type SessionOutcome = { done: true } | { lost: unknown; connected: boolean }

/** Errors after the start that mean "the cluster went away", not "you asked for something wrong". */
function isOutage(err: unknown): boolean {
  return isNetworkError(err) || retriableProtocolError(err) !== undefined
}

async function consumeSession(
  config: ConnectionConfig,
  options: ConsoleConsumeOptions,
  groupId: string,
  commits: boolean,
  state: ConsoleState
): Promise<SessionOutcome> {
  const consumer = createConsumer(config, groupId, { autocommit: false, maxWaitTime: 500 })
  const pendingCommits = new Map<number, Promise<void>>()
  let lost: unknown
  let outage = false
  const unwatch = watchHeartbeats(consumer, SESSION_TIMEOUT_MS, (err) => {
    lost = err
    void stream?.close().catch(() => {})
  })
  let stream: Awaited<ReturnType<typeof consumer.consume>> | undefined
  try {
    const resume = state.resume
    stream = await consumer.consume({
      topics: [options.topic],
      ...(resume
        ? { mode: 'manual' as const, offsets: [...resume].map(([key, offset]) => ({ ...splitKey(key), offset })) }
        : { mode: commits ? 'committed' : options.fromBeginning ? 'earliest' : 'latest' }),
      fallbackMode: options.fromBeginning ? 'earliest' : 'latest',
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: 1000
    })
    const s = stream
    if (!commits) {
      // Where this session starts on every partition, then moved on as records are printed.
      state.resume ??= new Map()
      const positions = state.resume
      const snapshot = (): void => {
        for (const [key, offset] of s.offsetsToFetch) if (!positions.has(key)) positions.set(key, offset)
      }
      snapshot()
      s.on('offsets', snapshot)
    }
    const first = !state.started
    state.started = true
    if (first) options.onReady?.()
    if (state.lostAt !== undefined) {
      options.onStatus?.(`reconnected after ${((Date.now() - state.lostAt) / 1000).toFixed(1)} s`)
      state.lostAt = undefined
    }
    const max = options.maxMessages
    const idleLeft =
      options.timeoutMs === undefined ? undefined : options.timeoutMs - (Date.now() - state.lastMessageAt)
    if (idleLeft !== undefined && idleLeft <= 0) return { done: true }
    const end = await forEachMessage<RawConsumedMessage>(
      s,
      (message) => {
        const ok = options.output.write(formatRecord(message, options.settings))
        state.printed++
        state.lastMessageAt = Date.now()
        state.resume?.set(`${message.topic}:${message.partition}`, message.offset + 1n)
        if (commits) {
          // commit() commits offset + 1 and merges concurrent commits per partition.
          const commit = message.commit() as Promise<void>
          // Handled here: after an outage the session returns without awaiting its pending commits.
          commit.catch(() => {})
          pendingCommits.set(message.partition, commit)
        }
        if (max !== undefined && state.printed >= max) return 'stop'
        return ok ? undefined : once(options.output, 'drain')
      },
      {
        ...(idleLeft !== undefined ? { idleMs: idleLeft } : {}),
        ...(options.signal ? { signal: options.signal } : {})
      }
    )
    // The client closes the stream only on errors it could not recover from: the cluster went
    // away. Commits still pending then fail; the next session starts from what was committed.
    if (end === 'ended' || lost !== undefined) {
      outage = true
      return {
        lost: lost ?? new UserError(`the consumer stream ended after ${state.printed} record(s)`),
        connected: true
      }
    }
    const committed = await Promise.allSettled(pendingCommits.values())
    const failed = committed.find((r) => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    return { done: true }
  } catch (err) {
    if (stream && isOutage(err)) {
      outage = true
      return { lost: err, connected: true }
    }
    throw err
  } finally {
    unwatch()
    // After an outage the close (LeaveGroup to a coordinator that is gone) can take a while:
    // do not let it hold up the reconnect. The new member joins under a new member id.
    const closing = consumer.close(true).catch(() => {})
    if (!outage) await closing
  }
}

function splitKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf(':')
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) }
}
