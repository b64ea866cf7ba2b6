import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

export interface ProcessResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Spawn to exit, JVM or Node start-up included. */
  wallMs: number
  /** User + system CPU of the whole process, when /usr/bin/time could measure it. */
  cpuMs: number | undefined
}

export interface RunOptions {
  /** For error messages. */
  name: string
  timeoutMs: number
  /** Every complete stdout line, as it arrives. */
  onLine?: (line: string) => void
  /** Measure the process's CPU time with /usr/bin/time (GNU time) when it is installed. */
  measureCpu?: boolean
}

const GNU_TIME = '/usr/bin/time'
const CPU_MARK = '__bench_cpu__'
const live = new Set<ChildProcess>()
/** Clock ticks per second in /proc/<pid>/stat: 100 on every mainstream Linux build. */
const USER_HZ = 100

/**
 * Runs a command to completion with a hard time limit. The child gets its own
 * process group, so a timeout or Ctrl-C ends it and anything it started.
 */
export function runProcess(command: string, args: string[], options: RunOptions): Promise<ProcessResult> {
  const timed = options.measureCpu === true && existsSync(GNU_TIME)
  const [cmd, fullArgs] = timed ? [GNU_TIME, ['-f', `${CPU_MARK} %U %S`, command, ...args]] : [command, args]
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    live.add(child)
    let stdout = ''
    let stderr = ''
    let partial = ''
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child)
    }, options.timeoutMs)
    child.stdout!.setEncoding('utf8')
    child.stderr!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk
      if (!options.onLine) return
      partial += chunk
      const lines = partial.split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) options.onLine(line)
    })
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('error', (err) => {
      clearTimeout(timer)
      live.delete(child)
      reject(err)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      const wallMs = performance.now() - started
      if (partial && options.onLine) options.onLine(partial)
      if (timedOut) {
        reject(new Error(`${options.name} did not finish within ${Math.round(options.timeoutMs / 1000)} s; killed`))
        return
      }
      let cpuMs: number | undefined
      if (timed) {
        const match = new RegExp(`${CPU_MARK} ([\\d.]+) ([\\d.]+)\\s*$`).exec(stderr)
        if (match) {
          cpuMs = (Number(match[1]) + Number(match[2])) * 1000
          stderr = stderr.slice(0, match.index)
        }
      }
      resolve({ code, signal, stdout, stderr, wallMs, cpuMs })
    })
  })
}

/**
 * Starts a long-running process (a server) in its own process group, registered so
 * killChildren() ends it on an error or Ctrl-C. The caller reads its output and stops it.
 */
export function startProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdio?: ('ignore' | 'pipe' | number)[] } = {}
): ChildProcess {
  const child = spawn(command, args, {
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...(options.env ? { env: options.env } : {})
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  child.once('error', () => live.delete(child))
  return child
}

/** Ends every child still running (and what it started): for errors and Ctrl-C. */
export function killChildren(): void {
  for (const child of live) killGroup(child)
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
}

/** CPU time (user + system, ms) a live process has used so far, from /proc; undefined off Linux. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return (ticks * 1000) / USER_HZ
  } catch {
    return undefined
  }
}
