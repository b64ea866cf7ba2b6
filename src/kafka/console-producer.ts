import { UserError } from '../errors.ts'
import { createBatchProducer, type RawMessage } from './batch-producer.ts'
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
 * Resolves with the number of records the broker acknowledged, once all are. A bad
 * line stops the input, but every line before it is still sent and acknowledged.
 */
export async function consoleProduce(config: ConnectionConfig, options: ConsoleProduceOptions): Promise<number> {
  await requireTopic(config, options.topic, `produce to ${options.topic}`)

  const producer = createBatchProducer(config, {
    batchSize: options.batchSize ?? 1000,
    lingerMs: options.lingerMs ?? 5
  })
  let badLine: string | undefined
  try {
    let lineNumber = 0
    for await (const line of splitLines(options.input)) {
      lineNumber++
      const parsed = parseLine(line, lineNumber, options.settings)
      if (typeof parsed === 'string') {
        badLine = parsed
        break
      }
      const message: RawMessage = { topic: options.topic }
      if (parsed.key !== undefined) message.key = parsed.key
      if (parsed.value !== undefined) message.value = parsed.value
      if (!producer.write(message)) await producer.ready()
    }
    await producer.close()
  } catch (err) {
    producer.abort(err)
    await producer.close().catch(() => {})
    throw toUserError(err, `produce to ${options.topic}`)
  }
  if (badLine !== undefined) {
    throw new UserError(`${badLine} (${producer.stats.acknowledged} record(s) before it were sent)`)
  }
  return producer.stats.acknowledged
}
