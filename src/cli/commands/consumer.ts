import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import pino from 'pino'
import { resolveWorkerSettings, SETTING_SOURCES, type SettingKey } from '../../consumer/config.ts'
import { loadHandler } from '../../consumer/handler.ts'
import { createWorker } from '../../consumer/worker.ts'
import { createLogger, type Logger } from '../../log.ts'
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
  command.option(
    '--exit-with-parent',
    'stop as on SIGTERM when stdin closes or the parent process is gone (the local pool sets this, so no worker ' +
      'outlives the autoscaler that started it); stdin must be a pipe from the parent'
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
    const stopFor = (reason: string, fields: Record<string, unknown>, message: string): void => {
      if (signalAt !== undefined) return
      signalAt = performance.now()
      log.info(fields, message)
      void worker.stop(reason)
    }
    const onSignal = (signal: NodeJS.Signals): void =>
      stopFor(signal, { event: 'signal', signal }, `${signal} received`)
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    const standby = opts['standby'] !== undefined
    const control = standby || opts['exitWithParent'] ? readControl(io.stdin) : undefined
    // A stop before "start" releases a standby too (the race below sees the worker done).
    const parent = opts['exitWithParent']
      ? watchParent(control!.ended, (why) => {
          skipExitFlush(log)
          stopFor('parent exited', { event: 'parent-exited', why }, `stopping: ${why}`)
        })
      : undefined
    try {
      try {
        if (standby) {
          await worker.prepare()
          log.info({ event: 'standby', port: worker.port }, 'standing by: joining the group on "start"')
          if (!(await Promise.race([control!.start, worker.done.then(() => false)]))) {
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
      parent?.stop()
      control?.close()
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    }
  })
}

/**
 * The pool's end of the worker's stdin, read for the worker's whole life: `start` resolves
 * true on a line "start" (a standby's cue), false when the input ends first; `ended` resolves
 * when the input ends (the pool closed it, or died and the kernel closed it).
 */
function readControl(input: NodeJS.ReadableStream): {
  start: Promise<boolean>
  ended: Promise<void>
  close(): void
} {
  const lines = createInterface({ input })
  let startNow!: (start: boolean) => void
  const start = new Promise<boolean>((resolve) => {
    startNow = resolve
  })
  const ended = new Promise<void>((resolve) => {
    lines.on('close', () => {
      startNow(false)
      resolve()
    })
  })
  lines.on('line', (line) => {
    if (line.trim() === 'start') startNow(true)
  })
  return {
    start,
    ended,
    close: () => {
      lines.close()
      // Reading stdin would keep the process alive after the worker stopped.
      if ('destroy' in input && typeof input.destroy === 'function') input.destroy()
    }
  }
}

/**
 * A pool worker logs to a pipe the pool reads. Once the pool is gone nobody reads it, and pino's
 * flush at exit retries a write to the broken pipe forever (sonic-boom's flushSync loops on
 * EPIPE), which would keep the stopped worker alive: skip that flush. Lines written before
 * then still go out (or fail, which pino handles).
 */
function skipExitFlush(log: Logger): void {
  const stream = (log as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[pino.symbols.streamSym]
  if (typeof stream?.flushSync === 'function') stream.flushSync = () => {}
}

/** How often the parent's pid is checked: a parent that died is noticed within this. */
const PARENT_CHECK_MS = 1000

/**
 * Calls `gone` once the parent is gone: stdin ended (its end of the pipe closed), or, belt and
 * braces for a pipe someone else still holds, this process was reparented (to init or a subreaper).
 */
function watchParent(ended: Promise<void>, gone: (why: string) => void): { stop(): void } {
  const ppid = process.ppid
  let done = false
  const fire = (why: string): void => {
    if (done) return
    done = true
    clearInterval(timer)
    gone(why)
  }
  const timer = setInterval(() => {
    if (process.ppid !== ppid) fire(`the parent process ${ppid} is gone (now a child of ${process.ppid})`)
  }, PARENT_CHECK_MS)
  timer.unref()
  void ended.then(() => fire('stdin closed: the process that started this worker is gone'))
  return {
    stop: () => {
      done = true
      clearInterval(timer)
    }
  }
}
