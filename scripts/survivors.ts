/**
 * Finds the processes a test run started that are still running: every process the run starts
 * inherits an environment variable with a value unique to the run, and /proc/<pid>/environ shows
 * a process's environment as it was started, whatever became of its parent.
 */
import { readdirSync, readFileSync } from 'node:fs'

export const RUN_MARKER_VAR = 'LAGSCALE_TEST_RUN'

export interface Survivor {
  pid: number
  command: string
}

/** Running processes (other than this one) started with `RUN_MARKER_VAR=marker`. */
export function markedProcesses(marker: string): Survivor[] {
  const wanted = `${RUN_MARKER_VAR}=${marker}`
  const found: Survivor[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    try {
      // A zombie's environ reads empty: it has ended, it only waits for its parent.
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')
      if (!environ.includes(wanted)) continue
      const command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim()
      found.push({ pid, command })
    } catch {
      // ended while we looked, or not ours to read
    }
  }
  return found
}

/**
 * Waits up to `graceMs` for the run's processes to end by themselves (a worker finishing its
 * shutdown), then kills the rest and returns them: what outlived the run.
 */
export async function reapSurvivors(marker: string, graceMs: number): Promise<Survivor[]> {
  const deadline = Date.now() + graceMs
  let left = markedProcesses(marker)
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    left = markedProcesses(marker)
  }
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // ended meanwhile
    }
  }
  return left
}
