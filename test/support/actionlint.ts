import { execFileSync } from 'node:child_process'
import { ensureTool } from './tools.ts'

const VERSION = 'v1.7.12'

/**
 * actionlint (the GitHub Actions workflow linter) for the CI/CD tests: `$ACTIONLINT`, one on PATH,
 * or built once from the Go module proxy into $LAGSCALE_HOME/tools (Go is on the machine).
 */
export function ensureActionlint(): string {
  return ensureTool({
    name: 'actionlint',
    envVar: 'ACTIONLINT',
    versionArgs: ['-version'],
    folder: `actionlint-${VERSION}`,
    bin: 'actionlint',
    install: (dir) =>
      execFileSync('go', ['install', `github.com/rhysd/actionlint/cmd/actionlint@${VERSION}`], {
        env: { ...process.env, GOBIN: dir, GOFLAGS: '-buildvcs=false' },
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 600_000
      })
  })
}
