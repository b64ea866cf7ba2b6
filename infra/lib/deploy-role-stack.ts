import { Duration, Stack, type StackProps } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import type { Construct } from 'constructs'
import { repositoryName, SERVICES } from './images-stack.ts'
import { acknowledge, acknowledgeWildcardResource } from './nag-suppressions.ts'

export interface DeployRoleStackProps extends StackProps {
  /** owner/name of the GitHub repository whose workflow deploys. */
  githubRepository: string
  /** The branch allowed to deploy (default main). */
  branch?: string
  repositoryPrefix: string
  /** An OIDC provider for token.actions.githubusercontent.com exists in the account already. */
  existingOidcProvider?: boolean
}

const GITHUB_OIDC = 'token.actions.githubusercontent.com'

/**
 * The role GitHub Actions assumes with its OIDC token (no long-lived keys): push the two images,
 * and run `cdk deploy` through the CDK bootstrap roles. Only the given repository's branch may
 * assume it.
 */
export class DeployRoleStack extends Stack {
  readonly role: iam.Role

  constructor(scope: Construct, id: string, props: DeployRoleStackProps) {
    super(scope, id, props)
    if (!/^[\w.-]+\/[\w.-]+$/.test(props.githubRepository)) {
      throw new Error(`lagscale infra: githubRepository must be owner/name; got ${props.githubRepository}`)
    }
    const providerArn = props.existingOidcProvider
      ? this.formatArn({ service: 'iam', region: '', resource: 'oidc-provider', resourceName: GITHUB_OIDC })
      : new iam.OidcProviderNative(this, 'GitHubOidc', {
          url: `https://${GITHUB_OIDC}`,
          clientIds: ['sts.amazonaws.com']
        }).oidcProviderArn
    this.role = new iam.Role(this, 'Role', {
      description: `GitHub Actions of ${props.githubRepository} (${props.branch ?? 'main'}): push images, cdk deploy`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(providerArn, {
        StringEquals: { [`${GITHUB_OIDC}:aud`]: 'sts.amazonaws.com' },
        StringLike: {
          [`${GITHUB_OIDC}:sub`]: `repo:${props.githubRepository}:ref:refs/heads/${props.branch ?? 'main'}`
        }
      })
    })
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EcrLogin',
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*']
      })
    )
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PushImages',
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:CompleteLayerUpload',
          'ecr:InitiateLayerUpload',
          'ecr:PutImage',
          'ecr:UploadLayerPart'
        ],
        resources: SERVICES.map((s) =>
          this.formatArn({
            service: 'ecr',
            resource: 'repository',
            resourceName: repositoryName(props.repositoryPrefix, s)
          })
        )
      })
    )
    // The roles `cdk bootstrap` creates (qualifier hnb659fds): deploy, file and image publishing, lookup.
    const bootstrapRoles = this.formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: 'cdk-hnb659fds-*'
    })
    this.role.addToPolicy(
      new iam.PolicyStatement({ sid: 'CdkDeploy', actions: ['sts:AssumeRole'], resources: [bootstrapRoles] })
    )
    acknowledge(
      this.role,
      'IAM5[Resource::*]',
      'ecr:GetAuthorizationToken accepts only "*"; pushing is limited to the two lagscale repositories.'
    )
    acknowledgeWildcardResource(
      this.role,
      bootstrapRoles,
      "cdk deploy works through the roles `cdk bootstrap` made, named cdk-hnb659fds-<kind>-<account>-<region>; the deploy's own permissions are those roles'."
    )
  }
}
