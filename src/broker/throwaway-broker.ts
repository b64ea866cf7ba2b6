/**
 * A broker of a run's own (a benchmark, the experiment): a free port, a fresh data folder in
 * the temp dir, the cached jars under $LAGSCALE_HOME. Stopped, and its data removed, at the end.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureKafkaJars } from './jars.ts'
import { freePort, type RunningBroker, startLocalBroker } from './local-broker.ts'
import { brokerDir } from './paths.ts'

export interface ThrowawayBroker {
  broker: RunningBroker
  /**
   * Stops the broker (controlled shutdown) and removes its data. Its folder under `home`
   * (config and broker.log) goes too, unless `keepLog`. Idempotent.
   */
  stop(keepLog?: boolean): Promise<void>
}

export interface ThrowawayBrokerOptions {
  heapMb: number
  /** Name prefix of the data folder in the temp dir. */
  tempPrefix: string
  onProgress: (message: string) => void
}

export async function startThrowawayBroker(home: string, options: ThrowawayBrokerOptions): Promise<ThrowawayBroker> {
  const { heapMb, onProgress } = options
  await ensureKafkaJars(home, onProgress)
  const port = await freePort()
  const dir = brokerDir(home, port)
  const ownsDir = !existsSync(dir)
  const dataDir = mkdtempSync(join(tmpdir(), options.tempPrefix))
  let broker: RunningBroker
  try {
    broker = await startLocalBroker({ home, port, dataDir, heapMb, onProgress })
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  let stopping: Promise<void> | undefined
  return {
    broker,
    stop: (keepLog = false) => {
      stopping ??= (async () => {
        await broker.stop()
        rmSync(dataDir, { recursive: true, force: true })
        if (ownsDir && !keepLog) rmSync(dir, { recursive: true, force: true })
      })()
      return stopping
    }
  }
}
