import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { UserError } from '../errors.ts'
import { createConsumer, type RawConsumedMessage } from './clients.ts'
import type { ConnectionConfig } from './connection-config.ts'
import { type FormatterSettings, formatRecord } from './console-format.ts'
import { toUserError } from './errors.ts'
import { forEachMessage } from './message-loop.ts'
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
  signal?: AbortSignal
}

/**
 * kafka-console-consumer. Without `group` it uses a throw-away group and commits
 * nothing, as Kafka's tool does. Returns the number of records printed.
 */
export async function consoleConsume(config: ConnectionConfig, options: ConsoleConsumeOptions): Promise<number> {
  await requireTopic(config, options.topic, `consume from ${options.topic}`)

  const commits = options.group !== undefined
  const groupId = options.group ?? `lagscale-console-consumer-${randomBytes(4).toString('hex')}`
  const consumer = createConsumer(config, groupId, { autocommit: false, maxWaitTime: 500 })
  let printed = 0
  const pendingCommits = new Map<number, Promise<void>>()
  try {
    const stream = await consumer.consume({
      topics: [options.topic],
      mode: commits ? 'committed' : options.fromBeginning ? 'earliest' : 'latest',
      fallbackMode: options.fromBeginning ? 'earliest' : 'latest',
      sessionTimeout: 10_000,
      heartbeatInterval: 1000
    })
    options.onReady?.()
    const max = options.maxMessages
    const end = await forEachMessage<RawConsumedMessage>(
      stream,
      (message) => {
        const ok = options.output.write(formatRecord(message, options.settings))
        printed++
        if (commits) {
          // commit() commits offset + 1 and merges concurrent commits per partition.
          pendingCommits.get(message.partition)?.catch(() => {})
          pendingCommits.set(message.partition, message.commit() as Promise<void>)
        }
        if (max !== undefined && printed >= max) return 'stop'
        return ok ? undefined : once(options.output, 'drain')
      },
      {
        ...(options.timeoutMs !== undefined ? { idleMs: options.timeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {})
      }
    )
    await Promise.all(pendingCommits.values())
    // The client closed the stream under us (it only does so on errors it could not recover from):
    // say so rather than exit 0 as if every record had been read.
    if (end === 'ended') throw new UserError(`the consumer stream ended unexpectedly after ${printed} record(s)`)
  } catch (err) {
    throw toUserError(err, `consume from ${options.topic}`)
  } finally {
    await consumer.close(true).catch(() => {})
  }
  return printed
}
