import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as iam from 'aws-cdk-lib/aws-iam'
import { Construct } from 'constructs'
import type { ClusterClientProps } from './client-policy.ts'
import { acknowledge } from './nag-suppressions.ts'

/** The client.properties for IAM auth (seed S6), as the host and the stack output give it. */
export const CLIENT_PROPERTIES = [
  'security.protocol=SASL_SSL',
  'sasl.mechanism=AWS_MSK_IAM',
  'sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;',
  'sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler'
].join('\n')

/**
 * S5/S6: an EC2 client in the VPC with the client policy, reached by SSM Session Manager (no
 * open port). SSH is opened only when settings.clientHost.sshCidr names who may connect. User
 * data installs Node 22 and lagscale and writes ~ec2-user/client.properties.
 */
export class ClientHost extends Construct {
  readonly instance: ec2.Instance
  readonly role: iam.Role
  readonly securityGroup: ec2.SecurityGroup

  constructor(scope: Construct, id: string, props: ClusterClientProps) {
    super(scope, id)
    const { settings, network, policy, bootstrapBrokers } = props
    const host = settings.clientHost
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'lagscale client host: MSK client policy + SSM Session Manager',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')]
    })
    policy.attachTo(this.role)
    acknowledge(
      this.role,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      "SSM Session Manager instead of SSH needs AWS's managed instance policy; it grants the agent's own calls only."
    )
    this.securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: network.vpc,
      description: 'lagscale client host: SSH only from the operator CIDR, when one is given',
      allowAllOutbound: true
    })
    if (host.sshCidr) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(host.sshCidr), ec2.Port.tcp(22), 'SSH from the operator (S5)')
    }
    const userData = ec2.UserData.forLinux()
    userData.addCommands(
      'set -euo pipefail',
      'dnf install -y nodejs22 nodejs22-npm',
      'alternatives --set node /usr/bin/node-22 || true',
      `npm install -g ${host.lagscalePackage}`,
      `cat > /home/ec2-user/client.properties <<'PROPS'\n${CLIENT_PROPERTIES}\nPROPS`,
      `echo 'export KAFKA_BOOTSTRAP_SERVERS=${bootstrapBrokers}' >> /home/ec2-user/.bashrc`,
      "echo 'export KAFKA_COMMAND_CONFIG=/home/ec2-user/client.properties' >> /home/ec2-user/.bashrc",
      'chown ec2-user:ec2-user /home/ec2-user/client.properties'
    )
    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: network.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: new ec2.InstanceType(host.instanceType),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      role: this.role,
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      detailedMonitoring: true,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(8, { encrypted: true }) }]
    })
    this.instance.addSecurityGroup(network.clientSecurityGroup)
    acknowledge(
      this.instance,
      'EC29',
      'A disposable client host (S5) holding no data: it is meant to be replaced, not protected from termination.'
    )
  }
}
