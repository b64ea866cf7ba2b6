/**
 * A broker of a test's own, for tests that kill it (the shared test broker must stay up): on a
 * free port with its data in `dataDir`, killable with -9 and restartable on the same data; and
 * the CLI steps those tests take against it.
 */
import assert from 'node:assert/strict'
import { freePort, type RunningBroker, startLocalBroker } from '../../src/broker/local-broker.ts'
import { runCli } from './cli.ts'
import { testEnv } from './test-env.ts'

export interface OwnBroker {
  readonly bootstrap: string
  /** The JVM's pid (changes with restart()). */
  readonly pid: number
  /** SIGKILL, no controlled shutdown; resolves once the process is gone. */
  kill(): Promise<void>
  /** Starts it again on the same port and data; resolves when it answers. */
  restart(): Promise<void>
  stop(): Promise<void>
}

export async function startOwnBroker(dataDir: string): Promise<OwnBroker> {
  const port = await freePort()
  const start = () => startLocalBroker({ home: testEnv().home, port, dataDir, heapMb: 384 })
  let broker: RunningBroker = await start()
  return {
    bootstrap: broker.bootstrap,
    get pid() {
      return broker.pid
    },
    kill: async () => {
      process.kill(broker.pid, 'SIGKILL')
      await broker.exited
    },
    restart: async () => {
      broker = await start()
    },
    stop: () => broker.stop()
  }
}

export async function createTopicOn(bootstrap: string, topic: string, partitions = 1, replicationFactor = 1) {
  const r = await runCli([
    'topics',
    'create',
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--partitions',
    String(partitions),
    '--replication-factor',
    String(replicationFactor)
  ])
  assert.equal(r.code, 0, r.stderr)
}

/** `lagscale produce` of one record per line; fails the test when the command fails. */
export async function produceLines(bootstrap: string, topic: string, lines: string[]): Promise<void> {
  const r = await runCli(['produce', '--bootstrap-server', bootstrap, '--topic', topic], {
    input: `${lines.join('\n')}\n`,
    timeoutMs: 90_000
  })
  assert.equal(r.code, 0, `lagscale produce failed: ${r.stderr}`)
}

/** `n` records of one work unit each. */
export const ones = (n: number): string[] => Array.from({ length: n }, () => '1')
