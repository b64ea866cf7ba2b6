/**
 * The CDK app: `npx cdk deploy` (in infra/) deploys the LagscaleStack into the account and region
 * of your AWS credentials. Settings come from `-c key=value` (see lib/settings.ts
 * settingsFromContext), e.g. `-c consumerScaling=lagscale -c sshCidr=203.0.113.7/32`.
 * Every synth runs cdk-nag's AwsSolutions checks; a finding not acknowledged (lib/nag-suppressions.ts)
 * fails it.
 */
import { App, Validations } from 'aws-cdk-lib'
import { AwsSolutionsChecks } from 'cdk-nag'
import { LagscaleStack } from '../lib/lagscale-stack.ts'
import { settingsFromContext } from '../lib/settings.ts'

const app = new App()
// The region must be known when synthesizing (the load balancer's log delivery differs per region);
// the account may stay unresolved until deploy.
const region = (app.node.tryGetContext('region') as string | undefined) ?? process.env['CDK_DEFAULT_REGION']
if (!region) {
  process.stderr.write('lagscale infra: no AWS region: set AWS_REGION (or a profile with one), or pass -c region=...\n')
  process.exit(2)
}
const account = process.env['CDK_DEFAULT_ACCOUNT']
new LagscaleStack(app, String(app.node.tryGetContext('stackName') ?? 'Lagscale'), {
  description: 'lagscale: Amazon MSK (IAM auth), ECS producer and consumer, ALB, consumer autoscaling',
  settings: settingsFromContext((key) => app.node.tryGetContext(key)),
  env: { region, ...(account ? { account } : {}) }
})
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }))
app.synth()
