import type { Command } from 'commander'
import { lineReaderSettings, PRODUCER_PROPERTIES, parsePropertyFlags } from '../../kafka/console-format.ts'
import { consoleProduce } from '../../kafka/console-producer.ts'
import { validateTopicName } from '../../kafka/topics.ts'
import { type ConnectionFlags, connectionFrom, withConnectionOptions } from '../connection-options.ts'
import type { CliIo } from '../io.ts'

const collect = (value: string, previous: string[]): string[] => [...previous, value]

export function registerProduceCommand(program: Command, io: CliIo): void {
  withConnectionOptions(
    program
      .command('produce')
      .description('console producer: one record per stdin line (kafka-console-producer), acks=all, idempotent')
  )
    .option('--broker-list <host:port,...>', 'alias of --bootstrap-server, as older Kafka tools spell it')
    .option('--producer.config <file>', 'alias of --command-config')
    .option('--topic <name>', 'topic to write to')
    .option(
      '--property <key=value>',
      `line reader setting (repeatable): ${PRODUCER_PROPERTIES.join(', ')}`,
      collect,
      []
    )
    .action(
      async (
        opts: ConnectionFlags & { brokerList?: string; 'producer.config'?: string; topic?: string; property: string[] }
      ) => {
        const topic = validateTopicName(opts.topic)
        const settings = lineReaderSettings(parsePropertyFlags(opts.property, PRODUCER_PROPERTIES))
        const config = connectionFrom(
          {
            bootstrapServer: opts.bootstrapServer ?? opts.brokerList,
            commandConfig: opts.commandConfig ?? opts['producer.config']
          },
          io,
          'lagscale-console-producer'
        )
        const count = await consoleProduce(config, {
          topic,
          input: io.stdin as AsyncIterable<Buffer>,
          settings
        })
        io.stderr.write(`Produced ${count} record(s) to ${topic}\n`)
      }
    )
}
