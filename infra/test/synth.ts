/** Synthesizes the stack as bin/app.ts does (with cdk-nag's AwsSolutions pack), for the assertions. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { App, Validations } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { AwsSolutionsChecks } from 'cdk-nag'
import { LagscaleStack } from '../lib/lagscale-stack.ts'
import type { LagscaleSettingsInput } from '../lib/settings.ts'

/** cdk.json's context (the feature flags `cdk deploy` runs with), so the tests synthesize what a deploy would. */
const context = (
  JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }
).context

export interface Synthesized {
  stack: LagscaleStack
  template: Template
}

export function synth(settings: LagscaleSettingsInput = {}): Synthesized {
  const app = new App({ context })
  // The seed's region; the account stays unresolved, as in an offline `cdk synth`.
  const stack = new LagscaleStack(app, 'Test', { env: { region: 'ap-northeast-1' }, settings })
  return { stack, template: Template.fromStack(stack) }
}

/**
 * Runs cdk-nag's AwsSolutions pack as bin/app.ts does: the findings not acknowledged, as the
 * validation report prints them ('' when there are none: the synth went through).
 */
export function nagFindings(settings: LagscaleSettingsInput = {}, change?: (stack: LagscaleStack) => void): string {
  const outdir = mkdtempSync(join(tmpdir(), 'lagscale-cdk-'))
  const printed: string[] = []
  const write = process.stderr.write
  try {
    const app = new App({ outdir, context })
    const stack = new LagscaleStack(app, 'Test', { env: { region: 'ap-northeast-1' }, settings })
    change?.(stack)
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }))
    // The report goes to the console; keep it for the assertion instead.
    process.stderr.write = ((chunk: string | Uint8Array) => {
      printed.push(String(chunk))
      return true
    }) as typeof process.stderr.write
    const log = console.error
    console.error = (...args: unknown[]) => printed.push(args.join(' '))
    try {
      app.synth()
      return ''
    } catch (err) {
      return `${(err as Error).message}\n${printed.join('')}`
    } finally {
      console.error = log
    }
  } finally {
    process.stderr.write = write
    rmSync(outdir, { recursive: true, force: true })
  }
}
