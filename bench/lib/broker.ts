import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureKafkaJars } from '../../src/broker/jars.ts'
import { freePort, type RunningBroker, startLocalBroker } from '../../src/broker/local-broker.ts'
import { brokerDir } from '../../src/broker/paths.ts'

export interface BenchBroker {
  broker: RunningBroker
  /**
   * Stops the broker (controlled shutdown) and removes its data. Its folder under
   * `home` (config and broker.log) goes too, unless `keepLog`. Idempotent.
   */
  stop(keepLog?: boolean): Promise<void>
}

/**
 * A broker of our own for one benchmark run: a free port, a fresh data folder in
 * the temp dir, the cached jars under `home`.
 */
export async function startBenchBroker(
  home: string,
  heapMb: number,
  onProgress: (message: string) => void
): Promise<BenchBroker> {
  await ensureKafkaJars(home, onProgress)
  const port = await freePort()
  const dir = brokerDir(home, port)
  const ownsDir = !existsSync(dir)
  const dataDir = mkdtempSync(join(tmpdir(), 'lagscale-bench-'))
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
