import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib'
import * as ecr from 'aws-cdk-lib/aws-ecr'
import type { Construct } from 'constructs'

export const SERVICES = ['producer', 'consumer'] as const
export type ServiceName = (typeof SERVICES)[number]

/** The repository of a service's image: <prefix>/producer, <prefix>/consumer. */
export function repositoryName(prefix: string, service: ServiceName): string {
  return `${prefix}/${service}`
}

export interface ImagesStackProps extends StackProps {
  repositoryPrefix: string
  /** `cdk destroy` deletes the repositories and their images (else they are kept). */
  removeOnDestroy: boolean
}

/**
 * S11: the image repositories, in a stack of their own: CI/CD (and the first deploy) pushes the
 * images here before the services that run them are deployed (.github/workflows/ci-cd.yml).
 */
export class ImagesStack extends Stack {
  readonly repositories: Record<ServiceName, ecr.Repository>

  constructor(scope: Construct, id: string, props: ImagesStackProps) {
    super(scope, id, props)
    const repository = (service: ServiceName): ecr.Repository =>
      new ecr.Repository(this, `${service}Repository`, {
        repositoryName: repositoryName(props.repositoryPrefix, service),
        imageScanOnPush: true,
        imageTagMutability: ecr.TagMutability.MUTABLE,
        removalPolicy: props.removeOnDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
        emptyOnDelete: props.removeOnDestroy,
        lifecycleRules: [{ description: 'keep the last 20 images', maxImageCount: 20 }]
      })
    this.repositories = { producer: repository('producer'), consumer: repository('consumer') }
  }
}
