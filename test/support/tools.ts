import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { installOnce } from './install-once.ts'

export interface ToolSpec {
  /** The command's name on PATH, e.g. `hadolint`. */
  name: string
  /** An environment variable that names the binary and wins over everything (`HADOLINT`). */
  envVar: string
  /** Arguments that make the command exit 0 when it works (`--version`). */
  versionArgs: string[]
  /** The cached install's folder name under $LAGSCALE_HOME/tools (version included). */
  folder: string
  /** The binary, relative to that folder. */
  bin: string
  /** Installs it into the folder (created empty before the call). */
  install: (dir: string) => void
}

/**
 * A tool the tests need: `$ENV_VAR`, else one on PATH, else installed once into
 * $LAGSCALE_HOME/tools/<folder> from a package registry (the machine has no other internet).
 */
export function ensureTool(spec: ToolSpec): string {
  const fromEnv = process.env[spec.envVar]
  if (fromEnv) return fromEnv
  if (spawnSync(spec.name, spec.versionArgs).status === 0) return spec.name
  return join(installTool(spec.folder, spec.install), spec.bin)
}

/** installOnce into $LAGSCALE_HOME/tools, telling the test's output what it installs and waits for. */
export function installTool(folder: string, install: (dir: string) => void): string {
  return installOnce({ name: folder, install, log: (m) => void process.stderr.write(`[tools] ${m}\n`) })
}

/**
 * A Python venv in `dir` with `requirements` from PyPI, wheels only: a wheel installs without
 * building, so nothing runs that could fetch from anywhere but the registry.
 */
export function pythonVenv(dir: string, requirements: string[]): void {
  run('python3', ['-m', 'venv', dir])
  run(join(dir, 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '-q',
    '--disable-pip-version-check',
    '--only-binary',
    ':all:',
    ...requirements
  ])
}

/** Runs an install step to completion; fails with the command and the tail of its output. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): void {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
    timeout: 15 * 60_000,
    maxBuffer: 64 * 1024 * 1024
  })
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`.trim().split('\n').slice(-8).join('\n')
    throw new Error(`install step failed (exit ${r.status ?? r.signal}): ${command} ${args.join(' ')}\n${tail}`)
  }
}
