import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { resolveWorkerSettings, SETTING_SOURCES, type SettingKey } from '../../consumer/config.ts'
import { loadHandler } from '../../consumer/handler.ts'
import { createWorker } from '../../consumer/worker.ts'
import { createLogger } from '../../log.ts'
import { type ConnectionFlags, connectionFrom, withConnectionOptions } from '../connection-options.ts'
import type { CliIo } from '../io.ts'

const HELP: Record<SettingKey, string> = {
  topic: 'topic to consume (default Topic_from_java)',
  group: 'consumer group id (default group_id)',
  port: 'HTTP port for /msk-consumer-healthCheck and /metrics (default 8081)',
  host: 'HTTP listen address (default 0.0.0.0)',
  workUnitMs: 'the default handler sleeps value x this many ms per record (default 1000)',
  maxWorkUnits: 'largest value the default handler accepts; others go to the DLT (default 3600)',
  maxAttempts: 'handler attempts per record before it is dead-lettered (default 3)',
  retryBackoffMs: 'first retry delay, doubled per attempt (default 200)',
  retryBackoffMaxMs: 'longest retry delay (default 5000)',
  shutdownGraceMs: 'on SIGTERM, how long the current record may still run (default 20000)',
  sessionTimeoutMs: 'group session timeout: how soon a dead worker is noticed (default 10000)',
  heartbeatIntervalMs: 'group heartbeat interval; also how soon a rebalance is noticed (default 500)',
  lagIntervalMs: 'how often the lag gauge is refreshed (default 5000)',
  concurrency: 'records worked on at once (default 1); > 1 needs --ordering key or unordered to use one partition',
  ordering: 'partition (default: one record per partition at a time), key (per key), or unordered',
  handoffTimeoutMs:
    "after a rebalance, longest wait for a partition's previous owner to finish its record (default 30000; 0: off)",
  createTopicPartitions: 'create the topic with this many partitions if it does not exist (default 0: fail)',
  dltTopic: 'dead-letter topic (default <topic>.DLT, created when missing)',
  handler: 'module whose default export (or "handle") processes a record instead of the seed handler',
  logLevel: 'log level: fatal, error, warn, info, debug, trace, silent (default info)'
}

/** The flag's commander attribute name: --work-unit-ms -> workUnitMs. */
const attribute = (flag: string): string => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

export function registerConsumerCommand(program: Command, io: CliIo): void {
  const command = withConnectionOptions(
    program
      .command('consumer')
      .description('the consumer worker (seed S18-S19): process records, commit after work, dead-letter poison')
  )
  for (const [flag, env, key] of SETTING_SOURCES) command.option(`${flag} <value>`, `${HELP[key]} (env ${env})`)
  command.option(
    '--client-id <id>',
    'Kafka client.id, shown as the member in group listings (default lagscale-consumer)'
  )
  command.option(
    '--standby',
    'warm standby: load, check the topic, start HTTP, then join the group only when a line "start" arrives on stdin ' +
      '(exits 0 if stdin closes first); the local pool keeps these for fast scale-out'
  )
  command.action(async (opts: ConnectionFlags & Record<string, string | undefined>) => {
    const flags: Partial<Record<SettingKey, string>> = {}
    for (const [flag, , key] of SETTING_SOURCES) {
      const value = opts[attribute(flag)]
      if (value !== undefined) flags[key] = value
    }
    const settings = resolveWorkerSettings(flags, io.env)
    const connection = connectionFrom(opts, io, opts['clientId'] ?? 'lagscale-consumer')
    const handle = settings.handler ? await loadHandler(settings.handler) : undefined
    const log = createLogger({ name: 'lagscale-consumer', level: settings.logLevel })
    const worker = createWorker({ ...settings, connection, logger: log, ...(handle ? { handle } : {}) })
    let signalAt: number | undefined
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalAt !== undefined) return
      signalAt = performance.now()
      log.info({ event: 'signal', signal }, `${signal} received`)
      void worker.stop(signal)
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    try {
      try {
        if (opts['standby']) {
          await worker.prepare()
          log.info({ event: 'standby', port: worker.port }, 'standing by: joining the group on "start"')
          if (!(await startRequested(io.stdin, worker.done))) {
            if (signalAt === undefined) await worker.stop('standby released')
            await worker.done
            return
          }
        }
        if (signalAt !== undefined) return
        await worker.start()
      } catch (err) {
        // Stopped while still joining (e.g. the autoscaler scaled in right away): that is a stop, not a failure.
        if (signalAt !== undefined) return
        throw err
      }
      await worker.done
      if (signalAt !== undefined) {
        const shutdownMs = Math.round(performance.now() - signalAt)
        log.info({ event: 'exit', shutdownMs }, `exiting ${shutdownMs} ms after the signal`)
      }
    } finally {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    }
  })
}

/**
 * Resolves true on a line "start" from the pool; false when the input ends first (the pool
 * is gone or closing) or the worker stopped (a signal).
 */
function startRequested(input: NodeJS.ReadableStream, stopped: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const lines = createInterface({ input })
    let decided = false
    const decide = (start: boolean): void => {
      if (decided) return
      decided = true
      lines.close()
      resolve(start)
    }
    lines.on('line', (line) => {
      if (line.trim() === 'start') decide(true)
    })
    lines.on('close', () => decide(false))
    void stopped.then(() => decide(false))
  })
}
