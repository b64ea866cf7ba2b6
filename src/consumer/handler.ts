import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { usageError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { WorkerSettings } from './config.ts'
import { parseWorkUnits } from './poison.ts'
import type { WorkerRecord } from './record.ts'

export interface HandlerContext {
  /** Aborted when the worker gives up on this record (shutdown grace period over). */
  signal: AbortSignal
  /** 1 on the first try, then 2, 3... up to maxAttempts. */
  attempt: number
  log: Logger
  settings: WorkerSettings
}

/**
 * The handler contract: resolve when the record's work is done (then its offset is
 * committed); throw to retry it (up to maxAttempts, with backoff) and then dead-letter
 * it; throw a PoisonRecordError (or any error with `poison: true`) to dead-letter it at once.
 */
export type RecordHandler = (record: WorkerRecord, context: HandlerContext) => Promise<void> | void

/**
 * The seed's handler (S19): a START line with time, key, value, partition and offset;
 * sleep value x workUnitMs; an END line with time. A value that is not an integer
 * 0..maxWorkUnits is poison.
 */
export const seedHandler: RecordHandler = async (record, { signal, log, settings }) => {
  const units = parseWorkUnits(record.value, settings.maxWorkUnits)
  const fields = { key: record.key, value: record.value, partition: record.partition, offset: String(record.offset) }
  log.info({ event: 'START', ...fields }, 'START')
  await sleep(units * settings.workUnitMs, undefined, { signal })
  log.info({ event: 'END', ...fields }, 'END')
}

/** Loads a handler module: its default export or its export named `handle`, a function. */
export async function loadHandler(path: string): Promise<RecordHandler> {
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ENOENT') throw usageError(`--handler ${path}: no such module`)
    throw usageError(`--handler ${path}: cannot load the module: ${(err as Error).message}`)
  }
  const handle = typeof mod['default'] === 'function' ? mod['default'] : mod['handle']
  if (typeof handle !== 'function') {
    throw usageError(`--handler ${path}: the module must export a function (default export or named "handle")`)
  }
  return handle as RecordHandler
}
