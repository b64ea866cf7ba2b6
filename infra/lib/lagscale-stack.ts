import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib'
import type { Construct } from 'constructs'
import { CLIENT_PROPERTIES, ClientHost } from './client-host.ts'
import { MskClientPolicy } from './client-policy.ts'
import { LagscaleAutoscalerService, SeedAlarmScaling } from './consumer-scaling.ts'
import { MskCluster } from './msk-cluster.ts'
import { Network } from './network.ts'
import { Services } from './services.ts'
import { type LagscaleSettings, type LagscaleSettingsInput, resolveSettings } from './settings.ts'

export interface LagscaleStackProps extends StackProps {
  settings?: LagscaleSettingsInput
}

/** The seed's whole AWS setup (S1-S6, S11-S14, S20-S21) in one stack. */
export class LagscaleStack extends Stack {
  readonly settings: LagscaleSettings
  readonly network: Network
  readonly msk: MskCluster
  readonly clientPolicy: MskClientPolicy
  readonly services: Services
  readonly clientHost?: ClientHost
  readonly seedScaling?: SeedAlarmScaling
  readonly autoscaler?: LagscaleAutoscalerService

  constructor(scope: Construct, id: string, props: LagscaleStackProps = {}) {
    super(scope, id, props)
    const settings = resolveSettings(props.settings)
    this.settings = settings
    this.network = new Network(this, 'Network', settings)
    this.msk = new MskCluster(this, 'Msk', settings, this.network)
    this.clientPolicy = new MskClientPolicy(this, 'ClientPolicy', this.msk)
    const brokers = this.msk.bootstrapBrokersSaslIam
    const clients = { settings, network: this.network, policy: this.clientPolicy, bootstrapBrokers: brokers }
    this.services = new Services(this, 'Services', clients)
    if (settings.clientHost.enabled) this.clientHost = new ClientHost(this, 'ClientHost', clients)
    if (settings.consumerScaling.mode === 'seed') {
      this.seedScaling = new SeedAlarmScaling(this, 'SeedScaling', settings, this.services)
    } else {
      this.autoscaler = new LagscaleAutoscalerService(
        this,
        'Autoscaler',
        settings,
        this.network,
        this.msk,
        this.clientPolicy,
        this.services
      )
    }

    new CfnOutput(this, 'ProducerPageUrl', {
      description: 'The Send Message page (S16), through the load balancer',
      value: `http://${this.services.loadBalancer.loadBalancerDnsName}/msk-producer`
    })
    new CfnOutput(this, 'BootstrapBrokersSaslIam', {
      description: 'Bootstrap brokers for IAM auth (port 9098): --bootstrap-server or KAFKA_BOOTSTRAP_SERVERS',
      value: brokers
    })
    new CfnOutput(this, 'ClientProperties', {
      description: 'client.properties for IAM auth (S6): --command-config or KAFKA_COMMAND_CONFIG',
      value: CLIENT_PROPERTIES
    })
    new CfnOutput(this, 'EcsClusterName', { value: this.services.cluster.clusterName })
    new CfnOutput(this, 'ConsumerServiceName', { value: this.services.consumerService.serviceName })
    new CfnOutput(this, 'ProducerServiceName', { value: this.services.producerService.serviceName })
    if (this.clientHost) {
      new CfnOutput(this, 'ClientHostSession', {
        description: 'Open a shell on the client host (SSM Session Manager)',
        value: `aws ssm start-session --target ${this.clientHost.instance.instanceId}`
      })
    }
  }
}
