import type { Command } from 'commander'
import { usageError } from '../../errors.ts'
import { consoleConsume } from '../../kafka/console-consumer.ts'
import { CONSUMER_PROPERTIES, formatterSettings, parsePropertyFlags } from '../../kafka/console-format.ts'
import { parsePositiveInt, validateTopicName } from '../../kafka/topics.ts'
import { type ConnectionFlags, connectionFrom, withConnectionOptions } from '../connection-options.ts'
import { type CliIo, writeLine } from '../io.ts'

const collect = (value: string, previous: string[]): string[] => [...previous, value]

export function registerConsumeCommand(program: Command, io: CliIo): void {
  withConnectionOptions(
    program.command('consume').description('console consumer: print records to stdout (kafka-console-consumer)')
  )
    .option('--consumer.config <file>', 'alias of --command-config')
    .option('--topic <name>', 'topic to read')
    .option('--group <id>', 'consumer group; offsets are committed after records are printed')
    .option('--from-beginning', 'start at the earliest offset when the group has no committed offset')
    .option('--max-messages <n>', 'exit after this many records')
    .option('--timeout-ms <ms>', 'exit when no record arrives for this long')
    .option('--property <key=value>', `formatter setting (repeatable): ${CONSUMER_PROPERTIES.join(', ')}`, collect, [])
    .action(
      async (
        opts: ConnectionFlags & {
          'consumer.config'?: string
          topic?: string
          group?: string
          fromBeginning?: boolean
          maxMessages?: string
          timeoutMs?: string
          property: string[]
        }
      ) => {
        const topic = validateTopicName(opts.topic)
        const settings = formatterSettings(parsePropertyFlags(opts.property, CONSUMER_PROPERTIES))
        const maxMessages =
          opts.maxMessages === undefined ? undefined : parsePositiveInt('--max-messages', opts.maxMessages)
        const timeoutMs = opts.timeoutMs === undefined ? undefined : parsePositiveInt('--timeout-ms', opts.timeoutMs)
        // Node timers cap at 2^31-1 ms (~24.8 days); larger values would fire at once.
        if (timeoutMs !== undefined && timeoutMs > 2_147_483_647)
          throw usageError('--timeout-ms must be at most 2147483647')
        if (opts.group !== undefined && opts.group.trim() === '') throw usageError('--group must not be empty')
        const config = connectionFrom(
          { bootstrapServer: opts.bootstrapServer, commandConfig: opts.commandConfig ?? opts['consumer.config'] },
          io,
          'lagscale-console-consumer'
        )
        const abort = new AbortController()
        const stop = (): void => abort.abort()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        try {
          const count = await consoleConsume(config, {
            topic,
            fromBeginning: opts.fromBeginning === true,
            output: io.stdout,
            settings,
            signal: abort.signal,
            onStatus: (message) => writeLine(io.stderr, `lagscale: ${message}`),
            ...(opts.group !== undefined ? { group: opts.group } : {}),
            ...(maxMessages !== undefined ? { maxMessages } : {}),
            ...(timeoutMs !== undefined ? { timeoutMs } : {})
          })
          io.stderr.write(`Processed a total of ${count} messages\n`)
        } finally {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
        }
      }
    )
}
