/**
 * The seed's AWS setup, synthesized offline and asserted setting by setting (S1-S6, S11-S14,
 * S20-S21). No AWS account: what these check is the CloudFormation template CDK would deploy.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Match } from 'aws-cdk-lib/assertions'
import { CLUSTER_ACTIONS, GROUP_ACTIONS, TOPIC_ACTIONS } from '../lib/client-policy.ts'
import { resolveSettings, settingsFromContext } from '../lib/settings.ts'
import { synth, synthDeployRole, synthImages } from './synth.ts'

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>

const defaults = synth()
const t = defaults.template
const resources = t.toJSON()['Resources'] as Resources
const logicalId = (type: string, idPart: string): string => {
  const ids = Object.keys(resources).filter((k) => resources[k]!.Type === type && k.includes(idPart))
  assert.equal(ids.length, 1, `one ${type} named like ${idPart}: ${ids}`)
  return ids[0]!
}

describe('MSK cluster (S1-S3)', () => {
  test('IAM client authentication on, unauthenticated access off', () => {
    t.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } }
    })
  })

  test('TLS only between clients and brokers, and between brokers; at rest with a rotated key of the stack', () => {
    const key = logicalId('AWS::KMS::Key', 'DataKey')
    t.hasResourceProperties('AWS::MSK::Cluster', {
      EncryptionInfo: {
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
        EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [key, 'Arn'] } }
      }
    })
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true })
  })

  test('a small broker, one per AZ over 2 AZs, the seed name, the consumer-lag metrics level', () => {
    t.hasResourceProperties('AWS::MSK::Cluster', {
      ClusterName: 'MSKTutorialCluster',
      NumberOfBrokerNodes: 2,
      BrokerNodeGroupInfo: {
        InstanceType: 'kafka.t3.small',
        SecurityGroups: [{ 'Fn::GetAtt': [logicalId('AWS::EC2::SecurityGroup', 'BrokerSg'), 'GroupId'] }]
      },
      EnhancedMonitoring: 'PER_TOPIC_PER_PARTITION'
    })
    const clientSubnets = (
      Object.values(resources).find((r) => r.Type === 'AWS::MSK::Cluster')!.Properties!['BrokerNodeGroupInfo'] as {
        ClientSubnets: unknown[]
      }
    ).ClientSubnets
    assert.equal(clientSubnets.length, 2, 'one subnet per AZ')
    t.resourceCountIs('AWS::EC2::VPC', 1)
  })

  test('broker logs go to a CloudWatch log group the stack creates', () => {
    const group = logicalId('AWS::Logs::LogGroup', 'BrokerLogs')
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/lagscale/msk/MSKTutorialCluster' })
    t.hasResourceProperties('AWS::MSK::Cluster', {
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: group } } } }
    })
  })

  test('the bootstrap brokers for IAM are read from the Kafka API once the cluster exists', () => {
    const call = Object.values(resources).find((r) => r.Type === 'Custom::AWS')!
    const update = JSON.stringify(call.Properties!['Update'])
    assert.match(update, /\\"service\\":\\"Kafka\\",\\"action\\":\\"getBootstrapBrokers\\"/)
    assert.match(update, new RegExp(logicalId('AWS::MSK::Cluster', 'Msk')))
    assert.equal(call.Properties!['InstallLatestAwsSdk'], false, 'no download from npm at deploy time')
  })
})

describe('network (S1, S5)', () => {
  test('the brokers accept 9098 from the client security group and nothing else', () => {
    const broker = logicalId('AWS::EC2::SecurityGroup', 'BrokerSg')
    const client = logicalId('AWS::EC2::SecurityGroup', 'ClientSg')
    const rules = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::EC2::SecurityGroupIngress' &&
        JSON.stringify(r.Properties?.['GroupId']) === JSON.stringify({ 'Fn::GetAtt': [broker, 'GroupId'] })
    )
    assert.deepEqual(
      rules.map((r) => [r.Properties!['FromPort'], r.Properties!['ToPort'], r.Properties!['SourceSecurityGroupId']]),
      [[9098, 9098, { 'Fn::GetAtt': [client, 'GroupId'] }]]
    )
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('MSK brokers'),
      SecurityGroupIngress: Match.absent()
    })
  })

  test('a VPC across 2 AZs with flow logs, public and private subnets', () => {
    t.resourceCountIs('AWS::EC2::Subnet', 4)
    t.resourceCountIs('AWS::EC2::FlowLog', 1)
  })

  test('an existing VPC by id: no VPC is created, the brokers go in its private subnets', () => {
    const { template } = synth({
      existingVpc: {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
        privateSubnetIds: ['subnet-0a00000000000000a', 'subnet-0c00000000000000c', 'subnet-0d00000000000000d'],
        publicSubnetIds: ['subnet-1a00000000000000a', 'subnet-1c00000000000000c', 'subnet-1d00000000000000d']
      }
    })
    template.resourceCountIs('AWS::EC2::VPC', 0)
    template.hasResourceProperties('AWS::MSK::Cluster', {
      NumberOfBrokerNodes: 3,
      BrokerNodeGroupInfo: {
        ClientSubnets: ['subnet-0a00000000000000a', 'subnet-0c00000000000000c', 'subnet-0d00000000000000d']
      }
    })
  })
})

describe('client IAM policy (S4)', () => {
  test('the exact actions per ARN kind: cluster, topic and group of this cluster', () => {
    const cluster = logicalId('AWS::MSK::Cluster', 'Msk')
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy')!
    const statements = (
      policy.Properties!['PolicyDocument'] as { Statement: { Sid: string; Action: string[]; Resource: unknown }[] }
    ).Statement
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]))
    assert.deepEqual(Object.keys(bySid).sort(), ['Cluster', 'Groups', 'Topics'], 'three statements')
    const sorted = (a: string[]) => [...a].sort()
    assert.deepEqual(sorted(bySid['Cluster']!.Action), sorted(CLUSTER_ACTIONS))
    assert.deepEqual(sorted(bySid['Topics']!.Action), sorted(TOPIC_ACTIONS))
    assert.deepEqual(sorted(bySid['Groups']!.Action), sorted(GROUP_ACTIONS))
    assert.deepEqual(bySid['Cluster']!.Resource, { 'Fn::GetAtt': [cluster, 'Arn'] }, "the cluster's own ARN")
    // topic/<name>/<the cluster ARN's id>/* in the stack's account: no account id typed by hand.
    const uuid = JSON.stringify({ 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [cluster, 'Arn'] }] }] })
    for (const [sid, kind] of [
      ['Topics', 'topic'],
      ['Groups', 'group']
    ] as const) {
      const arn = JSON.stringify(bySid[sid]!.Resource)
      assert.ok(arn.includes(`{"Ref":"AWS::AccountId"},":${kind}/MSKTutorialCluster/",${uuid},"/*"`), `${sid}: ${arn}`)
      assert.match(arn, /arn:aws:kafka:ap-northeast-1:/)
    }
    assert.deepEqual(CLUSTER_ACTIONS, [
      'kafka-cluster:Connect',
      'kafka-cluster:AlterCluster',
      'kafka-cluster:DescribeCluster'
    ])
    assert.deepEqual(TOPIC_ACTIONS, ['kafka-cluster:*Topic*', 'kafka-cluster:WriteData', 'kafka-cluster:ReadData'])
    assert.deepEqual(GROUP_ACTIONS, ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'])
  })

  test('attached to both task roles', () => {
    const policy = logicalId('AWS::IAM::ManagedPolicy', 'ClientPolicy')
    for (const task of ['ProducerTask', 'ConsumerTask']) {
      const role = logicalId('AWS::IAM::Role', `${task}TaskRole`)
      assert.deepEqual(resources[role]!.Properties!['ManagedPolicyArns'], [{ Ref: policy }], task)
    }
  })
})

describe('services (S11-S14)', () => {
  test('the images live in the images stack: lagscale/producer and lagscale/consumer, scanned on push', () => {
    const images = synthImages()
    images.resourceCountIs('AWS::ECR::Repository', 2)
    for (const service of ['producer', 'consumer']) {
      images.hasResourceProperties('AWS::ECR::Repository', {
        RepositoryName: `lagscale/${service}`,
        ImageScanningConfiguration: { ScanOnPush: true }
      })
    }
    t.resourceCountIs('AWS::ECR::Repository', 0)
    for (const service of ['producer', 'consumer']) {
      const container = Object.values(resources)
        .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
        .map((r) => (r.Properties!['ContainerDefinitions'] as { Name: string; Image: unknown }[])[0]!)
        .find((c) => c.Name === service)!
      assert.match(JSON.stringify(container.Image), new RegExp(`/lagscale/${service}:latest`), service)
    }
  })

  test('one ECS cluster with Container Insights', () => {
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }]
    })
  })

  test('the producer listens on 8082 and the consumer on 8081, with the IAM client settings', () => {
    for (const [name, port] of [
      ['producer', 8082],
      ['consumer', 8081]
    ] as const) {
      t.hasResourceProperties('AWS::ECS::TaskDefinition', {
        RequiresCompatibilities: ['FARGATE'],
        ContainerDefinitions: [
          Match.objectLike({
            Name: name,
            Command: [name],
            PortMappings: [Match.objectLike({ ContainerPort: port })],
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' })
          })
        ]
      })
    }
    t.resourceCountIs('AWS::ECS::Service', 2)
    for (const name of ['producer', 'consumer']) {
      const container = Object.values(resources)
        .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
        .map(
          (r) =>
            (
              r.Properties!['ContainerDefinitions'] as {
                Name: string
                Environment: { Name: string; Value: unknown }[]
              }[]
            )[0]!
        )
        .find((c) => c.Name === name)!
      const env = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]))
      assert.equal(env['KAFKA_COMMAND_CONFIG'], '/app/config/msk-iam.properties', name)
      assert.equal(env['TOPIC'], 'Topic_from_java', name)
      assert.equal(env['GROUP_ID'], 'group_id', name)
      assert.match(JSON.stringify(env['KAFKA_BOOTSTRAP_SERVERS']), /BootstrapBrokerStringSaslIam/, name)
    }
    const consumer = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
      .map(
        (r) =>
          (
            r.Properties!['ContainerDefinitions'] as { Name: string; Environment: { Name: string; Value: unknown }[] }[]
          )[0]!
      )
      .find((c) => c.Name === 'consumer')!
    assert.deepEqual(
      consumer.Environment.filter((e) => ['WORK_UNIT_MS', 'CREATE_TOPIC_PARTITIONS'].includes(e.Name)),
      [
        { Name: 'WORK_UNIT_MS', Value: '1000' },
        { Name: 'CREATE_TOPIC_PARTITIONS', Value: '8' }
      ],
      "the seed's work unit; the first consumer creates the topic (MSK does not on use)"
    )
  })

  test('the ALB routes /msk-producer* to the producer, whose health check is /msk-producer-healthCheck expecting 200', () => {
    const group = logicalId('AWS::ElasticLoadBalancingV2::TargetGroup', 'Producer')
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/msk-producer*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: group } }]
    })
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8082,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/msk-producer-healthCheck',
      Matcher: { HttpCode: '200' }
    })
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'fixed-response' })]
    })
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' })
  })

  test('outputs: the producer page URL, the bootstrap brokers, a client.properties for IAM', () => {
    const outputs = t.toJSON()['Outputs'] as Record<string, { Value: unknown }>
    assert.match(JSON.stringify(outputs['ProducerPageUrl']!.Value), /\/msk-producer"/)
    assert.ok(outputs['BootstrapBrokersSaslIam'], 'bootstrap brokers')
    assert.equal(
      outputs['ClientProperties']!.Value,
      [
        'security.protocol=SASL_SSL',
        'sasl.mechanism=AWS_MSK_IAM',
        'sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;',
        'sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler'
      ].join('\n')
    )
  })
})

describe('consumer autoscaling (S20-S21)', () => {
  test('seed mode: the consumer service scales between 1 and 8', () => {
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 8,
      ScalableDimension: 'ecs:service:DesiredCount',
      ServiceNamespace: 'ecs'
    })
  })

  test('seed mode: out to 8 when SumOffsetLag > 0 for 1 minute; in to 1 after 5 minutes at 0; missing data never scales', () => {
    const metric = {
      Namespace: 'AWS/Kafka',
      MetricName: 'SumOffsetLag',
      Dimensions: [
        { Name: 'Cluster Name', Value: 'MSKTutorialCluster' },
        { Name: 'Consumer Group', Value: 'group_id' },
        { Name: 'Topic', Value: 'Topic_from_java' }
      ],
      Period: 60,
      Statistic: 'Maximum',
      Threshold: 0,
      TreatMissingData: 'notBreaching'
    }
    const out = logicalId('AWS::ApplicationAutoScaling::ScalingPolicy', 'ScaleOut')
    const scaleIn = logicalId('AWS::ApplicationAutoScaling::ScalingPolicy', 'ScaleIn')
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...metric,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      AlarmActions: [{ Ref: out }]
    })
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...metric,
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      AlarmActions: [{ Ref: scaleIn }]
    })
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ExactCapacity',
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 8 }]
      }
    })
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ExactCapacity',
        StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 1 }]
      }
    })
  })

  test('lagscale mode: the autoscaler as a service that may update only the consumer service, max capped at the partitions', () => {
    const { template } = synth({ consumerScaling: { mode: 'lagscale' }, topicPartitions: 4 })
    const res = template.toJSON()['Resources'] as Resources
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0)
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0)
    template.resourceCountIs('AWS::ECS::Service', 3)
    const consumerService = Object.keys(res).find(
      (k) => res[k]!.Type === 'AWS::ECS::Service' && k.includes('Consumer')
    )!
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'ScaleTheConsumerServiceOnly',
            Effect: 'Allow',
            Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
            Resource: { Ref: consumerService }
          }
        ])
      }
    })
    const allowsUpdateService = Object.values(res)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties!['PolicyDocument'] as { Statement: { Action: string | string[] }[] }).Statement)
      .filter((s) => [s.Action].flat().includes('ecs:UpdateService'))
    assert.equal(allowsUpdateService.length, 1, 'no other statement may update a service')
    const command = Object.values(res)
      .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
      .map((r) => (r.Properties!['ContainerDefinitions'] as { Name: string; Command?: unknown[] }[])[0]!)
      .find((c) => c.Name === 'autoscaler')!.Command!
    const flag = (name: string) => command[command.indexOf(name) + 1]
    assert.equal(flag('--max'), '4', 'max 8 capped at the 4 partitions')
    assert.equal(flag('--min'), '1')
    assert.equal(flag('--policy'), 'drain')
    assert.deepEqual(command.slice(0, 3), ['autoscale', '--backend', 'ecs'])
    assert.deepEqual(flag('--ecs-service'), { 'Fn::GetAtt': [consumerService, 'Name'] })
  })
})

describe('client host (S5-S6)', () => {
  test('off by default', () => {
    t.resourceCountIs('AWS::EC2::Instance', 0)
  })

  test('on: SSM instead of SSH, the client policy, Node and lagscale by user data, encrypted disk, IMDSv2', () => {
    const { template } = synth({ clientHost: { enabled: true } })
    const res = template.toJSON()['Resources'] as Resources
    template.resourceCountIs('AWS::EC2::Instance', 1)
    const hostSg = Object.entries(res).find(
      ([k, r]) => r.Type === 'AWS::EC2::SecurityGroup' && k.startsWith('ClientHostSg')
    )![1]
    assert.equal(hostSg.Properties!['SecurityGroupIngress'], undefined, 'no SSH without a CIDR')
    const role = Object.entries(res).find(([k, r]) => r.Type === 'AWS::IAM::Role' && k.startsWith('ClientHostRole'))![1]
    const arns = JSON.stringify(role.Properties!['ManagedPolicyArns'])
    assert.match(arns, /AmazonSSMManagedInstanceCore/)
    assert.match(arns, /ClientPolicy/)
    const instance = Object.values(res).find((r) => r.Type === 'AWS::EC2::Instance')!
    const userData = JSON.stringify(instance.Properties!['UserData'])
    assert.match(userData, /dnf install -y nodejs22/)
    assert.match(userData, /npm install -g lagscale/)
    assert.match(userData, /sasl.mechanism=AWS_MSK_IAM/)
    template.hasResourceProperties('AWS::EC2::Instance', {
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true }) }],
      Monitoring: true
    })
  })

  test('SSH only from the given CIDR', () => {
    const { template } = synth({ clientHost: { enabled: true, sshCidr: '203.0.113.7/32' } })
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('client host'),
      SecurityGroupIngress: [
        { CidrIp: '203.0.113.7/32', FromPort: 22, ToPort: 22, IpProtocol: 'tcp', Description: Match.anyValue() }
      ]
    })
  })
})

describe('settings', () => {
  test('the seed defaults', () => {
    const s = resolveSettings()
    assert.deepEqual(
      [s.clusterName, s.brokerInstanceType, s.azCount, s.topic, s.groupId, s.producerPort, s.consumerPort],
      ['MSKTutorialCluster', 'kafka.t3.small', 2, 'Topic_from_java', 'group_id', 8082, 8081]
    )
    assert.deepEqual(
      [s.consumerScaling.mode, s.consumerScaling.min, s.consumerScaling.max, s.consumerScaling.scaleInDatapoints],
      ['seed', 1, 8, 5]
    )
  })

  test('bad settings are one clear error naming the setting', () => {
    assert.throws(
      () => resolveSettings({ clientHost: { sshCidr: '0.0.0.0/0' } }),
      /sshCidr must not open SSH to the whole internet/
    )
    assert.throws(
      () => resolveSettings({ clientHost: { sshCidr: 'my-ip' } }),
      /clientHost.sshCidr must be an IPv4 CIDR/
    )
    assert.throws(() => resolveSettings({ azCount: 1 }), /azCount must be a whole number from 2 to 3; got 1/)
    assert.throws(
      () => resolveSettings({ consumerScaling: { min: 3, max: 2 } }),
      /consumerScaling.max must be a whole number from 3/
    )
    assert.throws(() => resolveSettings({ consumerScaling: { periodSeconds: 45 } }), /periodSeconds must be 10, 30/)
    assert.throws(() => resolveSettings({ clusterName: 'my cluster' }), /clusterName must be 1-64 letters/)
  })

  test('from `cdk deploy -c key=value`', () => {
    const context: Record<string, string> = { consumerScaling: 'lagscale', sshCidr: '198.51.100.0/24', azCount: '3' }
    const s = resolveSettings(settingsFromContext((k) => context[k]))
    assert.equal(s.consumerScaling.mode, 'lagscale')
    assert.deepEqual([s.clientHost.enabled, s.clientHost.sshCidr, s.azCount], [true, '198.51.100.0/24', 3])
  })
})

describe('CI/CD deploy role', () => {
  test('GitHub OIDC only, for the given repository and main; push to the two repositories; cdk deploy via the bootstrap roles', () => {
    const role = synthDeployRole({ githubRepository: 'example/lagscale' })
    role.resourceCountIs('AWS::IAM::OIDCProvider', 1)
    role.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
              StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:example/lagscale:ref:refs/heads/main' }
            }
          })
        ]
      }
    })
    const policy = JSON.stringify(role.findResources('AWS::IAM::Policy'))
    assert.match(policy, /repository\/lagscale\/producer/)
    assert.match(policy, /repository\/lagscale\/consumer/)
    assert.match(policy, /role\/cdk-hnb659fds-\*/)
    assert.doesNotMatch(policy, /"Action":"\*"|"ecr:\*"|"iam:\*"/, 'no wildcard actions')
    const existing = synthDeployRole({ githubRepository: 'example/lagscale', existingOidcProvider: true })
    existing.resourceCountIs('AWS::IAM::OIDCProvider', 0)
    assert.throws(() => synthDeployRole({ githubRepository: 'lagscale' }), /githubRepository must be owner\/name/)
  })
})
