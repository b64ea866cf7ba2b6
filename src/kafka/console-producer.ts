import type { MessageToProduce } from '@platformatic/kafka'
import { UserError } from '../errors.ts'
import { createProducer } from './clients.ts'
import type { ConnectionConfig } from './connection-config.ts'
import { type LineReaderSettings, parseLine, splitLines } from './console-format.ts'
import { toUserError } from './errors.ts'
import { requireTopic } from './topics.ts'

export interface ConsoleProduceOptions {
  topic: string
  input: AsyncIterable<Buffer | string>
  settings: LineReaderSettings
  /** Records per produce request; lines typed by hand go out after `lingerMs`. */
  batchSize?: number
  lingerMs?: number
}

/**
 * kafka-console-producer: one record per input line, acks=all and idempotent.
 * Returns the number of records the broker acknowledged. Resolves only once all are acknowledged.
 */
export async function consoleProduce(config: ConnectionConfig, options: ConsoleProduceOptions): Promise<number> {
  await requireTopic(config, options.topic, `produce to ${options.topic}`)

  const producer = createProducer(config)
  const stream = producer.asStream({ batchSize: options.batchSize ?? 2000, batchTime: options.lingerMs ?? 5 })
  let failure: unknown
  stream.on('error', (err) => {
    failure ??= err
  })
  let acknowledged = 0
  stream.on('flush', ({ count }: { count: number }) => {
    acknowledged += count
  })
  try {
    let lineNumber = 0
    for await (const line of splitLines(options.input)) {
      lineNumber++
      if (failure) break
      const parsed = parseLine(line, lineNumber, options.settings)
      if (typeof parsed === 'string') throw new UserError(parsed)
      const message: MessageToProduce<Buffer, Buffer, string, Buffer> = { topic: options.topic }
      if (parsed.key !== undefined) message.key = parsed.key
      if (parsed.value !== undefined) message.value = parsed.value
      if (!stream.write(message)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            stream.off('drain', done)
            stream.off('close', done)
            resolve()
          }
          stream.once('drain', done)
          stream.once('close', done)
        })
      }
    }
    if (!failure) await stream.close().catch((err: unknown) => (failure ??= err))
  } finally {
    if (!stream.destroyed && !stream.writableFinished) stream.destroy()
    await producer.close(true).catch(() => {})
  }
  if (failure) throw toUserError(failure, `produce to ${options.topic}`)
  return acknowledged
}
