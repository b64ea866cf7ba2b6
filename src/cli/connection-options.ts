import type { Command } from 'commander'
import { type ConnectionConfig, resolveConnectionConfig } from '../kafka/connection-config.ts'
import type { CliIo } from './io.ts'

export interface ConnectionFlags {
  bootstrapServer?: string
  commandConfig?: string
}

/** `--bootstrap-server` and `--command-config`, as every Kafka tool names them. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option(
      '--bootstrap-server <host:port,...>',
      'Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS; default localhost:9092)'
    )
    .option(
      '--command-config <file>',
      'Java-style client.properties: security.protocol, sasl.*, ssl.* (env KAFKA_COMMAND_CONFIG)'
    )
}

export function connectionFrom(flags: ConnectionFlags, io: CliIo, clientId?: string): ConnectionConfig {
  return resolveConnectionConfig({
    bootstrapServer: flags.bootstrapServer,
    commandConfig: flags.commandConfig,
    clientId,
    env: io.env,
    warn: (message) => io.stderr.write(`WARN ${message}\n`)
  })
}
