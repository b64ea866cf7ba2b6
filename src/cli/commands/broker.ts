import type { Command } from 'commander'
import { ensureKafkaJars } from '../../broker/jars.ts'
import {
  isBrokerProcess,
  logTail,
  readBrokerState,
  startLocalBroker,
  stopLocalBroker
} from '../../broker/local-broker.ts'
import { KAFKA_VERSION, lagscaleHome } from '../../broker/paths.ts'
import { SilentExit, UserError, usageError } from '../../errors.ts'
import { type CliIo, writeLine } from '../io.ts'
import { parseOutputFormat, toJson } from '../output.ts'

export function parsePort(value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw usageError(`--port must be 1-65535; got ${value}`)
  return port
}

export function registerBrokerCommands(program: Command, io: CliIo): void {
  const broker = program
    .command('broker')
    .description('run a real Apache Kafka broker (KRaft, single node) on this machine')

  broker
    .command('start')
    .description('start the local broker; in the foreground unless --detach')
    .option('--port <port>', 'client port', '9092')
    .option('--host <host>', 'interface to listen on and advertise', '127.0.0.1')
    .option('--detach', 'return once the broker answers, leave it running in the background')
    .option('--heap-mb <mb>', 'JVM heap cap', '512')
    .action(async (opts: { port: string; host: string; detach?: boolean; heapMb: string }) => {
      const port = parsePort(opts.port)
      const heapMb = Number(opts.heapMb)
      if (!Number.isInteger(heapMb) || heapMb < 128) throw usageError('--heap-mb must be an integer >= 128')
      const home = lagscaleHome(io.env)
      const started = Date.now()
      const broker = await startLocalBroker({
        home,
        port,
        host: opts.host,
        heapMb,
        onProgress: (m) => writeLine(io.stderr, m)
      })
      // Listen for Ctrl-C before saying "ready": a signal with no listener kills the process outright.
      let stopping = false
      const stop = (): void => {
        stopping = true
        writeLine(io.stdout, 'stopping the broker...')
        void broker.stop()
      }
      if (!opts.detach) {
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      writeLine(
        io.stdout,
        `Kafka ${broker.kafkaVersion} broker ready at ${broker.bootstrap} (pid ${broker.pid}, ${seconds} s)`
      )
      writeLine(
        io.stdout,
        `  bootstrap server: ${broker.bootstrap}    e.g. npx lagscale topics list --bootstrap-server ${broker.bootstrap}`
      )
      writeLine(io.stdout, `  log: ${broker.logFile}`)
      if (opts.detach) {
        writeLine(io.stdout, `  stop it with: npx lagscale broker stop --port ${port}`)
        return
      }
      writeLine(io.stdout, '  press Ctrl-C to stop')
      const code = await broker.exited
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      if (!stopping) {
        throw new UserError(
          `the broker exited unexpectedly (${code}); see ${broker.logFile}:\n${logTail(broker.logFile, 10)}`
        )
      }
      writeLine(io.stdout, 'broker stopped')
    })

  broker
    .command('install')
    .description('download the Kafka broker and tools jars into $LAGSCALE_HOME (start does this on first use)')
    .action(async () => {
      const libs = await ensureKafkaJars(lagscaleHome(io.env), (m) => writeLine(io.stderr, m))
      writeLine(io.stdout, `Kafka ${KAFKA_VERSION} jars in ${libs}`)
    })

  broker
    .command('stop')
    .description('stop the local broker started with --detach')
    .option('--port <port>', 'client port of the broker to stop', '9092')
    .action(async (opts: { port: string }) => {
      const port = parsePort(opts.port)
      const stopped = await stopLocalBroker(lagscaleHome(io.env), port)
      writeLine(
        io.stdout,
        stopped ? `stopped the broker on port ${port}` : `no lagscale broker is running on port ${port}`
      )
    })

  broker
    .command('status')
    .description('is the local broker running? (exit code 3 when not)')
    .option('--port <port>', 'client port', '9092')
    .option('--output <format>', 'text or json', 'text')
    .action(async (opts: { port: string; output: string }) => {
      const port = parsePort(opts.port)
      const format = parseOutputFormat(opts.output)
      const state = readBrokerState(lagscaleHome(io.env), port)
      const running = state !== undefined && isBrokerProcess(state)
      if (format === 'json') writeLine(io.stdout, toJson(running ? { running, ...state } : { running, port }))
      else if (running) {
        writeLine(
          io.stdout,
          `running: Kafka ${state.kafkaVersion} at ${state.bootstrap} (pid ${state.pid}, since ${state.startedAt})`
        )
        writeLine(io.stdout, `  data: ${state.dataDir}`)
        writeLine(io.stdout, `  log:  ${state.logFile}`)
      } else writeLine(io.stdout, `not running on port ${port}`)
      if (!running) throw new SilentExit(3)
    })
}
