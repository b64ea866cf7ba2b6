import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { lagscaleHome } from '../../src/broker/paths.ts'

const VERSION = 'v1.7.12'

/**
 * actionlint (the GitHub Actions workflow linter) for the CI/CD tests: `$ACTIONLINT`, one on PATH,
 * or built once from the Go module proxy into $LAGSCALE_HOME/tools (Go is on the machine).
 */
export function ensureActionlint(): string {
  const fromEnv = process.env['ACTIONLINT']
  if (fromEnv) return fromEnv
  if (spawnSync('actionlint', ['-version']).status === 0) return 'actionlint'
  const dir = join(lagscaleHome(), 'tools', `actionlint-${VERSION}`)
  const bin = join(dir, 'actionlint')
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    execFileSync('go', ['install', `github.com/rhysd/actionlint/cmd/actionlint@${VERSION}`], {
      env: { ...process.env, GOBIN: dir, GOFLAGS: '-buildvcs=false' },
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 600_000
    })
  }
  return bin
}
