/**
 * A `lagscale consumer` worker as a real process against any bootstrap list, its JSON log
 * lines parsed as they arrive (with their arrival time).
 */
import type { ChildProcess } from 'node:child_process'
import { freePort } from '../../src/broker/local-broker.ts'
import { spawnCli } from './cli.ts'

export type LogLine = Record<string, unknown> & { event?: string; msg?: string }

export class WorkerProcess {
  readonly child: ChildProcess
  readonly lines: LogLine[] = []
  /** Every line with when it arrived (performance.now()). */
  readonly arrivals: { at: number; line: LogLine }[] = []
  readonly exited: Promise<number | null>
  stderr = ''
  #partial = ''
  readonly name: string

  /** `args` after `lagscale consumer`; `keepStdin` leaves stdin open (a standby waits for "start" on it). */
  constructor(name: string, args: string[], env: NodeJS.ProcessEnv = {}, options: { keepStdin?: boolean } = {}) {
    this.name = name
    this.child = spawnCli(['consumer', ...args], env)
    if (!options.keepStdin) this.child.stdin?.end()
    this.child.stdout?.on('data', (d: Buffer) => {
      const parts = (this.#partial + d.toString()).split('\n')
      this.#partial = parts.pop() ?? ''
      for (const p of parts) {
        if (!p.trim()) continue
        const line = JSON.parse(p) as LogLine
        this.lines.push(line)
        this.arrivals.push({ at: performance.now(), line })
      }
    })
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)))
  }

  /** Log lines of `event`, optionally only those that arrived at or after `since` (performance.now()). */
  events(event: string, since = Number.NEGATIVE_INFINITY): LogLine[] {
    return this.arrivals.filter((l) => l.line.event === event && l.at >= since).map((l) => l.line)
  }

  /** The partitions of the latest assignment. */
  lastAssignment(): number[] | undefined {
    return this.events('assigned').at(-1)?.['partitions'] as number[] | undefined
  }

  /** `partition:offset` of every record the worker finished (END), in order, repeats included. */
  finished(since = Number.NEGATIVE_INFINITY, until = Number.POSITIVE_INFINITY): string[] {
    return this.arrivals
      .filter((l) => l.line.event === 'END' && l.at >= since && l.at <= until)
      .map((l) => `${l.line['partition']}:${l.line['offset']}`)
  }

  /** SIGTERM (the worker finishes its record and leaves the group), then waits for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    await this.exited
  }
}

/**
 * Starts `n` workers of `group` on `topic`, each with its own HTTP port, with quick test
 * settings (10 ms work unit, 6 s session timeout) that `env` and `extraArgs` override.
 */
export async function startWorkerProcesses(
  n: number,
  bootstrap: string,
  topic: string,
  group: string,
  env: NodeJS.ProcessEnv = {},
  extraArgs: string[] = []
): Promise<WorkerProcess[]> {
  const workers: WorkerProcess[] = []
  for (let i = 0; i < n; i++) {
    const port = await freePort()
    workers.push(
      new WorkerProcess(`w${i}`, ['--bootstrap-server', bootstrap, '--topic', topic, '--group', group, ...extraArgs], {
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
