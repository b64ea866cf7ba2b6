/**
 * The CDK app. In infra/:
 *   npx cdk deploy LagscaleImages      the image repositories (push the images there, then:)
 *   npx cdk deploy Lagscale -c imageTag=<tag>
 *   npx cdk deploy LagscaleDeployRole -c githubRepository=owner/name   (optional, for CI/CD)
 * Settings come from `-c key=value` (lib/settings.ts settingsFromContext), e.g.
 * `-c consumerScaling=lagscale -c sshCidr=203.0.113.7/32`. Every synth runs cdk-nag's
 * AwsSolutions checks; a finding not acknowledged (lib/nag-suppressions.ts) fails it.
 */
import { App, Validations } from 'aws-cdk-lib'
import { AwsSolutionsChecks } from 'cdk-nag'
import { DeployRoleStack } from '../lib/deploy-role-stack.ts'
import { ImagesStack } from '../lib/images-stack.ts'
import { LagscaleStack } from '../lib/lagscale-stack.ts'
import { resolveSettings, settingsFromContext } from '../lib/settings.ts'

const app = new App()
// The region must be known when synthesizing (the load balancer's log delivery differs per region);
// the account may stay unresolved until deploy.
const region = (app.node.tryGetContext('region') as string | undefined) ?? process.env['CDK_DEFAULT_REGION']
if (!region) {
  process.stderr.write('lagscale infra: no AWS region: set AWS_REGION (or a profile with one), or pass -c region=...\n')
  process.exit(2)
}
const account = process.env['CDK_DEFAULT_ACCOUNT']
const env = { region, ...(account ? { account } : {}) }
const context = (key: string): unknown => app.node.tryGetContext(key)
let settings: ReturnType<typeof resolveSettings>
try {
  settings = resolveSettings(settingsFromContext(context))
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exit(2)
}

const images = new ImagesStack(app, 'LagscaleImages', {
  env,
  description: 'lagscale: image repositories of the producer and the consumer',
  repositoryPrefix: settings.repositoryPrefix,
  removeOnDestroy: settings.removeOnDestroy
})
const main = new LagscaleStack(app, String(context('stackName') ?? 'Lagscale'), {
  env,
  description: 'lagscale: Amazon MSK (IAM auth), ECS producer and consumer, ALB, consumer autoscaling',
  settings
})
main.addDependency(images)
const github = context('githubRepository')
if (typeof github === 'string' && github) {
  new DeployRoleStack(app, 'LagscaleDeployRole', {
    env,
    description: 'lagscale: the role GitHub Actions assumes (OIDC) to push images and deploy',
    githubRepository: github,
    repositoryPrefix: settings.repositoryPrefix,
    existingOidcProvider: context('existingOidcProvider') === 'true'
  })
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }))
app.synth()
