import pino, { type Logger } from 'pino'

export type { Logger } from 'pino'

export interface LoggerOptions {
  name: string
  level?: string
  /** Human-readable lines; default: when stdout is a terminal. JSON lines otherwise (containers, CI). */
  pretty?: boolean
}

/** The services' logger: pino, JSON lines with an ISO `time` by default, pretty on a TTY. Secrets never go in (see kafka/secret.ts). */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true
  return pino({
    name: options.name,
    level: options.level ?? 'info',
    // ISO time on every line (the seed's START/END banners show the time; people read these logs).
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {})
  })
}
