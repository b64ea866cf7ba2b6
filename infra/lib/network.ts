import { RemovalPolicy } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as logs from 'aws-cdk-lib/aws-logs'
import { Construct } from 'constructs'
import type { LagscaleSettings } from './settings.ts'

/** MSK's port for IAM-authenticated clients over TLS. */
export const MSK_IAM_PORT = 9098

/**
 * S1/S5: the VPC (new, across the AZs, or an existing one) and the security groups: clients
 * reach the brokers only on 9098, and only from the client security group.
 */
export class Network extends Construct {
  readonly vpc: ec2.IVpc
  /** Every MSK client: the ECS tasks and the client host. */
  readonly clientSecurityGroup: ec2.SecurityGroup
  readonly brokerSecurityGroup: ec2.SecurityGroup

  constructor(scope: Construct, id: string, settings: LagscaleSettings) {
    super(scope, id)
    const existing = settings.existingVpc
    if (existing) {
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', existing)
    } else {
      const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
        retention: logs.RetentionDays.ONE_WEEK,
        removalPolicy: RemovalPolicy.DESTROY
      })
      this.vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: settings.azCount,
        // One NAT gateway: the tasks pull images and write logs; a NAT per AZ costs more than this demo needs.
        natGateways: 1,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 }
        ],
        flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) } }
      })
    }
    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSg', {
      vpc: this.vpc,
      description: 'MSK clients: the producer and consumer tasks, the autoscaler, the client host',
      allowAllOutbound: true
    })
    this.brokerSecurityGroup = new ec2.SecurityGroup(this, 'BrokerSg', {
      vpc: this.vpc,
      description: 'MSK brokers: IAM/TLS clients on 9098 from the client security group only',
      allowAllOutbound: false
    })
    this.brokerSecurityGroup.addIngressRule(
      this.clientSecurityGroup,
      ec2.Port.tcp(MSK_IAM_PORT),
      'Kafka clients (IAM auth, TLS) from the client security group'
    )
  }
}
