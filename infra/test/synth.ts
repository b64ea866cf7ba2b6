/** Synthesizes the stacks as bin/app.ts does (with cdk-nag's AwsSolutions pack), for the assertions. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { App, type Stack, Validations } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { AwsSolutionsChecks } from 'cdk-nag'
import { DeployRoleStack, type DeployRoleStackProps } from '../lib/deploy-role-stack.ts'
import { ImagesStack } from '../lib/images-stack.ts'
import { LagscaleStack } from '../lib/lagscale-stack.ts'
import type { LagscaleSettingsInput } from '../lib/settings.ts'

/** cdk.json's context (the feature flags `cdk deploy` runs with), so the tests synthesize what a deploy would. */
const context = (
  JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }
).context
/** The seed's region; the account stays unresolved, as in an offline `cdk synth`. */
const env = { region: 'ap-northeast-1' }

export interface Synthesized {
  stack: LagscaleStack
  template: Template
}

export function synth(settings: LagscaleSettingsInput = {}): Synthesized {
  const stack = new LagscaleStack(new App({ context }), 'Test', { env, settings })
  return { stack, template: Template.fromStack(stack) }
}

export function synthImages(): Template {
  return Template.fromStack(
    new ImagesStack(new App({ context }), 'Images', { env, repositoryPrefix: 'lagscale', removeOnDestroy: true })
  )
}

export function synthDeployRole(props: Omit<DeployRoleStackProps, 'env' | 'repositoryPrefix'>): Template {
  return Template.fromStack(
    new DeployRoleStack(new App({ context }), 'DeployRole', { env, repositoryPrefix: 'lagscale', ...props })
  )
}

/** Every stack of the app, as bin/app.ts makes them, with these settings. */
export function buildApp(app: App, settings: LagscaleSettingsInput = {}): LagscaleStack {
  new ImagesStack(app, 'Images', { env, repositoryPrefix: 'lagscale', removeOnDestroy: true })
  new DeployRoleStack(app, 'DeployRole', { env, repositoryPrefix: 'lagscale', githubRepository: 'example/lagscale' })
  return new LagscaleStack(app, 'Test', { env, settings })
}

/**
 * Runs cdk-nag's AwsSolutions pack over every stack as bin/app.ts does: the findings not
 * acknowledged, as the validation report prints them ('' when there are none: the synth went through).
 */
export function nagFindings(settings: LagscaleSettingsInput = {}, change?: (stack: Stack) => void): string {
  const outdir = mkdtempSync(join(tmpdir(), 'lagscale-cdk-'))
  const printed: string[] = []
  const write = process.stderr.write
  const log = console.error
  try {
    const app = new App({ outdir, context })
    const stack = buildApp(app, settings)
    change?.(stack)
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }))
    // The report goes to the console; keep it for the assertion instead.
    process.stderr.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk))
      return true
    }) as typeof process.stderr.write
    console.error = (...args: unknown[]) => printed.push(args.join(' '))
    app.synth()
    return ''
  } catch (err) {
    return `${(err as Error).message}\n${printed.join('')}`
  } finally {
    console.error = log
    process.stderr.write = write
    rmSync(outdir, { recursive: true, force: true })
  }
}
