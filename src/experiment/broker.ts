/**
 * A broker of the experiment's own: a free port, a fresh data folder in the temp dir, the
 * cached jars under $LAGSCALE_HOME (as bench/lib/broker.ts does for the benchmarks). Stopped,
 * and its data removed, when the experiment ends.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureKafkaJars } from '../broker/jars.ts'
import { freePort, type RunningBroker, startLocalBroker } from '../broker/local-broker.ts'
import { brokerDir } from '../broker/paths.ts'

export interface OwnBroker {
  broker: RunningBroker
  /** Stops the broker and removes its data (and its log, unless keepLog). Idempotent. */
  stop(keepLog?: boolean): Promise<void>
}

export async function startOwnBroker(home: string, onProgress: (message: string) => void): Promise<OwnBroker> {
  await ensureKafkaJars(home, onProgress)
  const port = await freePort()
  const dir = brokerDir(home, port)
  const ownsDir = !existsSync(dir)
  const dataDir = mkdtempSync(join(tmpdir(), 'lagscale-experiment-'))
  let broker: RunningBroker
  try {
    broker = await startLocalBroker({ home, port, dataDir, heapMb: 512, onProgress })
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
