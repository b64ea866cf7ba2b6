/**
 * The CI/CD workflow (S11): linted by actionlint, and checked for what it must do: test, build and
 * push both images, deploy with cdk, and reach AWS only through OIDC role assumption.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { ensureActionlint } from '../support/actionlint.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const FILE = '.github/workflows/ci-cd.yml'
/** A GitHub Actions expression as the workflow spells it: gh('github.sha') is the sha's placeholder. */
const gh = (expression: string): string => ['$', '{{ ', expression, ' }}'].join('')

interface Step {
  uses?: string
  run?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
}
interface Job {
  needs?: string | string[]
  if?: string
  permissions?: Record<string, string>
  strategy?: { matrix: Record<string, unknown[]> }
  steps: Step[]
}
const workflow = parse(readFileSync(join(root, FILE), 'utf8')) as {
  on: Record<string, unknown>
  permissions: Record<string, string>
  jobs: Record<string, Job>
}

describe('CI/CD workflow', () => {
  let actionlint = ''
  before(() => {
    actionlint = ensureActionlint()
  })

  test(`${FILE} passes actionlint`, () => {
    const r = spawnSync(actionlint, ['-no-color', FILE], { cwd: root, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stdout + r.stderr)
  })

  test('actionlint does check: a broken workflow fails it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lagscale-actionlint-'))
    try {
      mkdirSync(join(dir, '.github', 'workflows'), { recursive: true })
      writeFileSync(
        join(dir, '.github', 'workflows', 'bad.yml'),
        `on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${gh('github.nosuchthing')}\n`
      )
      const r = spawnSync(actionlint, ['-no-color', '.github/workflows/bad.yml'], { cwd: dir, encoding: 'utf8' })
      assert.notEqual(r.status, 0)
      assert.match(r.stdout, /nosuchthing/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('tests on every push and pull request with the CI entry point', () => {
    assert.ok('push' in workflow.on && 'pull_request' in workflow.on)
    assert.ok(workflow.jobs['test']!.steps.some((s) => s.run === 'bash .ci/run'))
  })

  test('on main after the tests: builds and pushes both images to ECR, then deploys with cdk', () => {
    const images = workflow.jobs['images']!
    assert.equal(images.needs, 'test')
    assert.match(images.if ?? '', /refs\/heads\/main/)
    assert.deepEqual(images.strategy?.matrix['service'], ['producer', 'consumer'])
    const build = images.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!
    assert.equal(build.with?.['file'], `docker/${gh('matrix.service')}.Dockerfile`)
    assert.equal(build.with?.['push'], true)
    assert.match(String(build.with?.['tags']), /lagscale\/\$\{\{ matrix.service \}\}:\$\{\{ github.sha \}\}/)
    const deploy = workflow.jobs['deploy']!
    assert.equal(deploy.needs, 'images')
    const run = deploy.steps.map((s) => s.run ?? '').join('\n')
    assert.match(run, /npx cdk deploy LagscaleImages Lagscale/)
    assert.match(run, /-c imageTag=\$\{\{ github.sha \}\}/)
  })

  test('AWS only by OIDC: id-token where AWS is used, a role to assume, no stored keys', () => {
    assert.deepEqual(workflow.permissions, { contents: 'read' }, 'least privilege by default')
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const aws = job.steps.filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))
      if (aws.length === 0) {
        assert.notEqual(job.permissions?.['id-token'], 'write', `${name} needs no OIDC token`)
        continue
      }
      assert.equal(job.permissions?.['id-token'], 'write', name)
      for (const step of aws) {
        assert.equal(step.with?.['role-to-assume'], gh('vars.AWS_DEPLOY_ROLE_ARN'), name)
        assert.equal(step.with?.['aws-access-key-id'], undefined, `${name}: no long-lived key`)
        assert.equal(step.with?.['aws-secret-access-key'], undefined, `${name}: no long-lived key`)
      }
    }
    assert.doesNotMatch(readFileSync(join(root, FILE), 'utf8'), /secrets\.AWS_/)
  })
})
