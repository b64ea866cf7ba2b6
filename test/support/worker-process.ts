/**
 * A `lagscale consumer` worker as a real process against any bootstrap list, its JSON log
 * lines parsed as they arrive (with their arrival time), for tests that break the cluster
 * under it.
 */
import type { ChildProcess } from 'node:child_process'
import { freePort } from '../../src/broker/local-broker.ts'
import { spawnCli } from './cli.ts'

export type LogLine = Record<string, unknown> & { event?: string; msg?: string }

export class WorkerProcess {
  readonly child: ChildProcess
  readonly lines: { at: number; line: LogLine }[] = []
  readonly exited: Promise<number | null>
  stderr = ''
  #partial = ''

  readonly name: string

  constructor(name: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.name = name
    this.child = spawnCli(['consumer', ...args], env)
    this.child.stdin?.end()
    this.child.stdout?.on('data', (d: Buffer) => {
      const parts = (this.#partial + d.toString()).split('\n')
      this.#partial = parts.pop() ?? ''
      for (const p of parts) if (p.trim()) this.lines.push({ at: Date.now(), line: JSON.parse(p) as LogLine })
    })
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)))
  }

  /** Log lines of `event`, optionally only those that arrived at or after `since` (epoch ms). */
  events(event: string, since = 0): LogLine[] {
    return this.lines.filter((l) => l.line.event === event && l.at >= since).map((l) => l.line)
  }

  /** `partition:offset` of every record the worker finished (END), in order, repeats included. */
  finished(since = 0, until = Number.POSITIVE_INFINITY): string[] {
    return this.lines
      .filter((l) => l.line.event === 'END' && l.at >= since && l.at <= until)
      .map((l) => `${l.line['partition']}:${l.line['offset']}`)
  }

  /** SIGTERM (the worker finishes its record and leaves the group), then waits for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    await this.exited
  }
}

/** Starts `n` workers of `group` on `topic`, each with its own HTTP port. */
export async function startWorkerProcesses(
  n: number,
  bootstrap: string,
  topic: string,
  group: string,
  env: NodeJS.ProcessEnv = {}
): Promise<WorkerProcess[]> {
  const workers: WorkerProcess[] = []
  for (let i = 0; i < n; i++) {
    const port = await freePort()
    workers.push(
      new WorkerProcess(`w${i}`, ['--bootstrap-server', bootstrap, '--topic', topic, '--group', group], {
        PORT: String(port),
        HOST: '127.0.0.1',
        WORK_UNIT_MS: '10',
        SESSION_TIMEOUT_MS: '6000',
        HEARTBEAT_INTERVAL_MS: '500',
        ...env
      })
    )
  }
  return workers
}
