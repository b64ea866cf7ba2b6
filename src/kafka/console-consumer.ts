import { randomBytes } from 'node:crypto'
import type { Writable } from 'node:stream'
import { createConsumer } from './clients.ts'
import type { ConnectionConfig } from './connection-config.ts'
import { type FormatterSettings, formatRecord } from './console-format.ts'
import { toUserError } from './errors.ts'
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
    let idle: NodeJS.Timeout | undefined
    const armIdle = (): void => {
      if (options.timeoutMs === undefined) return
      clearTimeout(idle)
      idle = setTimeout(() => void stream.close(), options.timeoutMs)
    }
    const onAbort = (): void => void stream.close()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    armIdle()
    try {
      for await (const message of stream) {
        if (options.maxMessages !== undefined && printed >= options.maxMessages) break
        const ok = options.output.write(formatRecord(message, options.settings))
        printed++
        if (commits) {
          // commit() commits offset + 1 and merges concurrent commits per partition.
          const previous = pendingCommits.get(message.partition)
          previous?.catch(() => {})
          pendingCommits.set(message.partition, message.commit() as Promise<void>)
        }
        if (!ok) await new Promise((resolve) => options.output.once('drain', resolve))
        if (options.maxMessages !== undefined && printed >= options.maxMessages) break
        armIdle()
      }
    } finally {
      clearTimeout(idle)
      options.signal?.removeEventListener('abort', onAbort)
    }
    await Promise.all(pendingCommits.values())
    await stream.close().catch(() => {})
  } catch (err) {
    throw toUserError(err, `consume from ${options.topic}`)
  } finally {
    await consumer.close(true).catch(() => {})
  }
  return printed
}
