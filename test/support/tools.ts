import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { lagscaleHome } from '../../src/broker/paths.ts'

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
  /** Installs it into the folder (created before the call). */
  install: (dir: string) => void
}

/**
 * A linter the tests need: `$ENV_VAR`, else one on PATH, else installed once into
 * $LAGSCALE_HOME/tools/<folder> from a package registry (the machine has no other internet).
 */
export function ensureTool(spec: ToolSpec): string {
  const fromEnv = process.env[spec.envVar]
  if (fromEnv) return fromEnv
  if (spawnSync(spec.name, spec.versionArgs).status === 0) return spec.name
  const dir = join(lagscaleHome(), 'tools', spec.folder)
  const bin = join(dir, spec.bin)
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    spec.install(dir)
  }
  return bin
}
