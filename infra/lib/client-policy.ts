import { Stack } from 'aws-cdk-lib'
import * as iam from 'aws-cdk-lib/aws-iam'
import { Construct } from 'constructs'
import type { MskCluster } from './msk-cluster.ts'
import { acknowledgeClientPolicy } from './nag-suppressions.ts'
import type { Network } from './network.ts'
import type { LagscaleSettings } from './settings.ts'

/** S4's actions, per kind of resource. */
export const CLUSTER_ACTIONS = ['kafka-cluster:Connect', 'kafka-cluster:AlterCluster', 'kafka-cluster:DescribeCluster']
export const TOPIC_ACTIONS = ['kafka-cluster:*Topic*', 'kafka-cluster:WriteData', 'kafka-cluster:ReadData']
export const GROUP_ACTIONS = ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup']

/**
 * S4: the client policy, exactly as the seed wrote it, scoped to this cluster: its ARN for the
 * cluster actions, and topic/group ARNs built from the cluster's name and id (no account id
 * typed by hand: the stack's partition, region and account).
 */
export class MskClientPolicy extends Construct {
  readonly policy: iam.ManagedPolicy
  readonly topicArns: string
  readonly groupArns: string

  constructor(scope: Construct, id: string, msk: MskCluster) {
    super(scope, id)
    const stack = Stack.of(this)
    const under = (resource: 'topic' | 'group'): string =>
      stack.formatArn({ service: 'kafka', resource, resourceName: `${msk.clusterName}/${msk.clusterUuid}/*` })
    this.topicArns = under('topic')
    this.groupArns = under('group')
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Kafka clients of ${msk.clusterName} (IAM auth): connect, topics, groups (seed S4)`,
      statements: [
        new iam.PolicyStatement({ sid: 'Cluster', actions: CLUSTER_ACTIONS, resources: [msk.cluster.attrArn] }),
        new iam.PolicyStatement({ sid: 'Topics', actions: TOPIC_ACTIONS, resources: [this.topicArns] }),
        new iam.PolicyStatement({ sid: 'Groups', actions: GROUP_ACTIONS, resources: [this.groupArns] })
      ]
    })
    acknowledgeClientPolicy(this.policy, this.topicArns, this.groupArns)
  }

  attachTo(role: iam.IRole): void {
    role.addManagedPolicy(this.policy)
  }
}

/** What a construct that runs Kafka clients in the VPC needs: the settings, the network, this policy, the brokers. */
export interface ClusterClientProps {
  settings: LagscaleSettings
  network: Network
  policy: MskClientPolicy
  /** Bootstrap brokers for IAM auth (port 9098). */
  bootstrapBrokers: string
}
