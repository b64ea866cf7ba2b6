import { spawnSync } from 'node:child_process'
import { cpus, freemem, loadavg, release, totalmem } from 'node:os'

/** The commit measured, and whether the work tree had changes on top of it. */
export function describeCode(): { commit: string; uncommittedChanges: boolean } {
  const git = (args: string[]): string => spawnSync('git', args, { encoding: 'utf8' }).stdout?.trim() ?? ''
  return { commit: git(['rev-parse', 'HEAD']) || 'unknown', uncommittedChanges: git(['status', '--porcelain']) !== '' }
}

export function describeMachine() {
  const list = cpus()
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' })
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    freeMemoryGb: Math.round(freemem() / 1024 ** 3),
    os: `${process.platform} ${release()}`,
    node: process.version,
    java: (java.stderr || java.stdout || '').split('\n')[0]?.trim() ?? 'unknown',
    loadAverageStart: currentLoad()
  }
}

export function currentLoad(): number[] {
  return loadavg().map((l) => Number(l.toFixed(2)))
}
