import type { Command } from 'commander'
import { createLogger } from '../../log.ts'
import {
  DEFAULT_MAX_MESSAGES_PER_REQUEST,
  DEFAULT_PORT,
  DEFAULT_TOPIC,
  resolveProducerConfig
} from '../../producer/config.ts'
import { startProducerApp } from '../../producer/server.ts'
import { type ConnectionFlags, connectionFrom, withConnectionOptions } from '../connection-options.ts'
import type { CliIo } from '../io.ts'

interface ProducerCommandFlags extends ConnectionFlags {
  port?: string
  host?: string
  topic?: string
  maxMessagesPerRequest?: string
}

/** `lagscale producer`: the seed's producer web app; runs until SIGTERM or SIGINT, then shuts down gracefully. */
export function registerProducerCommand(program: Command, io: CliIo): void {
  withConnectionOptions(
    program
      .command('producer')
      .description(
        'the producer web app (S14-S17): a form and POST /msk-producer-send that write work records to Kafka'
      )
  )
    .option('--port <port>', `HTTP port (env PORT; default ${DEFAULT_PORT})`)
    .option('--host <host>', 'interface to listen on (default 0.0.0.0)')
    .option('--topic <name>', `topic to write to (env TOPIC; default ${DEFAULT_TOPIC})`)
    .option(
      '--max-messages-per-request <n>',
      `largest N one request may send (env MAX_MESSAGES_PER_REQUEST; default ${DEFAULT_MAX_MESSAGES_PER_REQUEST})`
    )
    .action(async (opts: ProducerCommandFlags) => {
      const connection = connectionFrom(opts, io, 'lagscale-producer')
      const config = resolveProducerConfig(opts, io.env, connection)
      const logger = createLogger({ name: 'lagscale-producer', level: io.env['LOG_LEVEL'] || 'info' })
      // Listen for signals before the app says it listens: a signal with no listener kills the process.
      let signalled: NodeJS.Signals | undefined
      let onSignal: (signal: NodeJS.Signals) => void = (signal) => {
        signalled = signal
      }
      const handler = (signal: NodeJS.Signals): void => onSignal(signal)
      process.on('SIGINT', handler)
      process.on('SIGTERM', handler)
      try {
        const app = await startProducerApp(config, { logger })
        await new Promise<void>((resolve) => {
          onSignal = (signal) => {
            onSignal = () => {}
            logger.info({ signal }, 'signal received')
            void app.close().then(resolve, (err: unknown) => {
              logger.error({ err }, 'shutdown failed')
              resolve()
            })
          }
          if (signalled) onSignal(signalled)
        })
      } finally {
        process.off('SIGINT', handler)
        process.off('SIGTERM', handler)
      }
      logger.flush()
    })
}
