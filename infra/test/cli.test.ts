/** `cdk synth` of the app as a user runs it (offline, no AWS credentials), and the app's type check. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const infra = fileURLToPath(new URL('..', import.meta.url))
const root = join(infra, '..')
/** No credentials, no instance metadata, no telemetry: nothing may reach out to AWS. */
function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || key.startsWith('CDK_')) delete env[key]
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    // The app runs on the project's Node 22 (infra's devDependency), as `npx cdk` in infra/ does.
    PATH: `${join(infra, 'node_modules', '.bin')}:${env['PATH'] ?? ''}`,
    ...extra
  }
}

test('cdk synth of the app (default settings, and the deploy role) succeeds offline, cdk-nag included', () => {
  const out = mkdtempSync(join(tmpdir(), 'lagscale-synth-'))
  try {
    const r = spawnSync(
      join(infra, 'node_modules', '.bin', 'cdk'),
      [
        'synth',
        '--output',
        out,
        '--no-notices',
        '--quiet',
        '--no-version-reporting',
        '-c',
        'githubRepository=example/lagscale'
      ],
      { cwd: infra, env: offlineEnv({ AWS_REGION: 'ap-northeast-1' }), encoding: 'utf8', timeout: 180_000 }
    )
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
    const types = (stack: string): Set<string> => {
      const template = JSON.parse(readFileSync(join(out, `${stack}.template.json`), 'utf8')) as {
        Resources: Record<string, { Type: string }>
      }
      return new Set(Object.values(template.Resources).map((x) => x.Type))
    }
    for (const type of ['AWS::MSK::Cluster', 'AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::ListenerRule']) {
      assert.ok(types('Lagscale').has(type), type)
    }
    assert.ok(types('LagscaleImages').has('AWS::ECR::Repository'))
    assert.ok(types('LagscaleDeployRole').has('AWS::IAM::Role'))
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { dependencies?: string[] }>
    }
    assert.ok(manifest.artifacts['Lagscale']?.dependencies?.includes('LagscaleImages'), 'images first')
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

test('without a region the app says so in one line and exits 2', () => {
  const r = spawnSync(join(infra, 'node_modules', '.bin', 'node'), ['bin/app.ts'], {
    cwd: infra,
    env: offlineEnv(),
    encoding: 'utf8',
    timeout: 60_000
  })
  assert.equal(r.status, 2, r.stderr)
  assert.equal(
    r.stderr.trim(),
    'lagscale infra: no AWS region: set AWS_REGION (or a profile with one), or pass -c region=...'
  )
})

test('the CDK app type-checks (TypeScript strict)', () => {
  const r = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', infra], {
    encoding: 'utf8',
    timeout: 180_000
  })
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
})
