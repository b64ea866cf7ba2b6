import { Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib'
import * as kms from 'aws-cdk-lib/aws-kms'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as msk from 'aws-cdk-lib/aws-msk'
import * as cr from 'aws-cdk-lib/custom-resources'
import { Construct } from 'constructs'
import { acknowledge } from './nag-suppressions.ts'
import type { Network } from './network.ts'
import type { LagscaleSettings } from './settings.ts'

/**
 * S1-S3: the provisioned MSK cluster with IAM client authentication, TLS between clients and
 * brokers (and between brokers), encryption at rest, and broker logs in a log group of its own.
 *
 * The L1 `CfnCluster`: aws-cdk-lib has no stable L2 for MSK (`@aws-cdk/aws-msk-alpha` is
 * experimental and may change between releases), and the L1 maps one-to-one to the settings
 * the seed chose in the console.
 */
export class MskCluster extends Construct {
  readonly cluster: msk.CfnCluster
  readonly logGroup: logs.LogGroup
  /** Encrypts the brokers' volumes (at rest); a key of the stack's, rotated yearly. */
  readonly dataKey: kms.Key
  readonly clusterName: string
  /** The cluster ARN's last part (arn:...:cluster/NAME/UUID): topic and group ARNs carry it. */
  readonly clusterUuid: string
  /** BootstrapBrokerStringSaslIam, read after the cluster exists. */
  readonly bootstrapBrokersSaslIam: string

  constructor(scope: Construct, id: string, settings: LagscaleSettings, network: Network) {
    super(scope, id)
    this.clusterName = settings.clusterName
    this.logGroup = new logs.LogGroup(this, 'BrokerLogs', {
      logGroupName: `/lagscale/msk/${settings.clusterName}`,
      retention: settings.brokerLogRetention,
      removalPolicy: RemovalPolicy.DESTROY
    })
    this.dataKey = new kms.Key(this, 'DataKey', {
      description: `MSK ${settings.clusterName}: encryption at rest of the broker volumes`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7)
    })
    const subnets = network.vpc.selectSubnets({ subnetGroupName: settings.existingVpc ? undefined : 'private' })
    const azs = settings.existingVpc ? settings.existingVpc.availabilityZones.length : settings.azCount
    this.cluster = new msk.CfnCluster(this, 'Cluster', {
      clusterName: settings.clusterName,
      kafkaVersion: settings.kafkaVersion,
      numberOfBrokerNodes: azs * settings.brokersPerAz,
      brokerNodeGroupInfo: {
        instanceType: settings.brokerInstanceType,
        clientSubnets: subnets.subnetIds,
        securityGroups: [network.brokerSecurityGroup.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: settings.brokerVolumeGiB } }
      },
      clientAuthentication: {
        sasl: { iam: { enabled: true } },
        unauthenticated: { enabled: false }
      },
      encryptionInfo: {
        // TLS only between clients and brokers (no plaintext listener), and between brokers.
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
        encryptionAtRest: { dataVolumeKmsKeyId: this.dataKey.keyArn }
      },
      enhancedMonitoring: settings.monitoringLevel,
      loggingInfo: {
        brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName } }
      }
    })
    this.clusterUuid = Fn.select(2, Fn.split('/', this.cluster.attrArn))

    // CfnCluster does not return the bootstrap brokers: read them with the Kafka API once the cluster is up.
    const brokers = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: this.cluster.attrArn },
        physicalResourceId: cr.PhysicalResourceId.of(this.cluster.attrArn)
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.cluster.attrArn] }),
      installLatestAwsSdk: false
    })
    this.bootstrapBrokersSaslIam = brokers.getResponseField('BootstrapBrokerStringSaslIam')
    // The custom resource's function is CDK's own singleton, created at the stack's root.
    acknowledge(
      Stack.of(this),
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's AwsCustomResource function (reads the bootstrap brokers once per deploy) writes its logs with " +
        'the AWS managed basic execution policy; its only other permission is kafka:GetBootstrapBrokers on this cluster.'
    )
  }
}
