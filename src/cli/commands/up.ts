import type { Command } from 'commander'
import { lagscaleHome } from '../../broker/paths.ts'
import { usageError } from '../../errors.ts'
import { parsePositiveInt } from '../../kafka/topics.ts'
import { createLogger } from '../../log.ts'
import { startPipeline } from '../../pipeline/up.ts'
import { type CliIo, writeLine } from '../io.ts'
import { type AutoscaleFlags, resolveAutoscalerConfig, withAutoscalerOptions } from './autoscale.ts'

interface UpFlags extends AutoscaleFlags {
  port: string
  partitions: string
  producerPort: string
  fresh?: boolean
}

function port(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`${flag} must be a port number; got ${value}`)
  return n
}

export function registerUpCommand(program: Command, io: CliIo): void {
  const command = program
    .command('up')
    .description(
      'the whole pipeline on this machine: local broker, topic, producer web app, autoscaled consumers, dashboard'
    )
    .option('--port <port>', 'local broker port', '9092')
    .option('--partitions <n>', 'partitions of the topic when it is created (1 reproduces the seed)', '8')
    .option('--fresh', 'delete and recreate the topic first (new partition count, no old records or offsets)')
    .option('--producer-port <port>', 'producer web app port', '8082')
  withAutoscalerOptions(command, { backendFlags: false })
  command.action(async (flags: UpFlags) => {
    const config = resolveAutoscalerConfig({ ...flags, backend: 'local' }, io.env)
    const partitions = parsePositiveInt('--partitions', flags.partitions)
    const log = createLogger({ name: 'lagscale' })
    const started = Date.now()
    // Ctrl-C during start-up (a first broker download takes a while) stops what was started.
    let interrupted = false
    const early = (): void => {
      interrupted = true
    }
    process.once('SIGINT', early)
    process.once('SIGTERM', early)
    const pipeline = await startPipeline({
      home: lagscaleHome(io.env),
      brokerPort: port('--port', flags.port),
      partitions,
      fresh: flags.fresh === true,
      producerPort: port('--producer-port', flags.producerPort),
      autoscaler: config,
      logger: log,
      progress: (m) => writeLine(io.stderr, m)
    })
    process.off('SIGINT', early)
    process.off('SIGTERM', early)
    if (interrupted) {
      await pipeline.close()
      return
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    const lines = [
      `lagscale is up (${seconds} s):`,
      `  broker     ${pipeline.bootstrap}${pipeline.ownsBroker ? '' : ' (already running; left running)'}`,
      `  topic      ${pipeline.topic} (${pipeline.partitions} partition${pipeline.partitions === 1 ? '' : 's'}), group ${pipeline.group}`,
      `  producer   ${pipeline.producerUrl}    send records from the page`,
      ...(pipeline.dashboardUrl
        ? [
            `  dashboard  ${pipeline.dashboardUrl}    lag, consumers, decisions`,
            `  metrics    ${pipeline.dashboardUrl}metrics`
          ]
        : []),
      `  consumers  ${config.min}..${config.max} local workers, policy ${config.policy}; worker logs in ${pipeline.workerLogDir}`,
      '  press Ctrl-C to stop everything'
    ]
    writeLine(io.stdout, lines.join('\n'))
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        writeLine(io.stdout, 'stopping: consumers finish their record, then the producer, then the broker...')
        resolve()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    await pipeline.close()
    writeLine(io.stdout, 'stopped')
  })
}
