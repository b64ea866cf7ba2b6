import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/lagscale.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  stdoutBytes: Buffer
}

/** Runs `lagscale args...` as a real process, the way a user does; kills it after `timeoutMs`. */
export function runCli(
  args: string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}
): Promise<CliResult> {
  const child = spawnCli(args, options.env)
  child.stdin?.end(options.input ?? '')
  return collect(child, options.timeoutMs ?? 60_000)
}

export function spawnCli(args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env }
  })
}

export function collect(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    let err = ''
    child.stdout?.on('data', (d: Buffer) => out.push(d))
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`command timed out after ${timeoutMs} ms; stderr: ${err}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const stdoutBytes = Buffer.concat(out)
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr: err, stdoutBytes })
    })
  })
}

/** A topic or group name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}
