/**
 * The CDK app (infra/) has its own package.json, so the service images and `npm ci` at the root
 * stay free of aws-cdk-lib (~400 MB). Its tests need its dependencies: installed here with
 * `npm ci` when missing or older than infra/package-lock.json.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'

export function ensureInfraDependencies(root: string, log: (message: string) => void): void {
  const infra = join(root, 'infra')
  const lock = join(infra, 'package-lock.json')
  const installed = join(infra, 'node_modules', '.package-lock.json')
  if (!existsSync(lock)) return
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return
  log('installing the CDK app dependencies (npm ci in infra/)...')
  const started = Date.now()
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: infra, stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status !== 0) throw new Error(`npm ci in infra/ failed (exit ${r.status ?? r.signal})`)
  log(`CDK app dependencies installed in ${Math.round((Date.now() - started) / 1000)} s`)
}
