import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as ecr from 'aws-cdk-lib/aws-ecr'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as s3 from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'
import type { ClusterClientProps } from './client-policy.ts'
import { repositoryName } from './images-stack.ts'
import { acknowledge } from './nag-suppressions.ts'

/** Where the images keep the IAM client settings (docker/msk-iam.properties). */
export const IMAGE_CLIENT_PROPERTIES = '/app/config/msk-iam.properties'
export const PRODUCER_PATH_PATTERN = '/msk-producer*'
export const PRODUCER_HEALTH_PATH = '/msk-producer-healthCheck'
export const CONSUMER_HEALTH_PATH = '/msk-consumer-healthCheck'

/**
 * S11-S14: the ECS cluster, the producer (8082) behind an ALB with
 * path routing, and the consumer worker (8081), both on Fargate in the private subnets.
 */
export class Services extends Construct {
  readonly producerRepository: ecr.IRepository
  readonly consumerRepository: ecr.IRepository
  readonly cluster: ecs.Cluster
  readonly producerService: ecs.FargateService
  readonly consumerService: ecs.FargateService
  readonly loadBalancer: elbv2.ApplicationLoadBalancer
  readonly logGroup: logs.LogGroup
  /** Environment every container gets: the cluster, IAM auth, topic, group. */
  readonly kafkaEnvironment: Record<string, string>

  constructor(scope: Construct, id: string, props: ClusterClientProps) {
    super(scope, id)
    const { settings, network, policy, bootstrapBrokers } = props
    // The repositories are the images stack's (images-stack.ts), found by name: CI/CD pushes there first.
    this.producerRepository = ecr.Repository.fromRepositoryName(
      this,
      'ProducerRepository',
      repositoryName(settings.repositoryPrefix, 'producer')
    )
    this.consumerRepository = ecr.Repository.fromRepositoryName(
      this,
      'ConsumerRepository',
      repositoryName(settings.repositoryPrefix, 'consumer')
    )

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED
    })
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY
    })
    this.kafkaEnvironment = {
      KAFKA_BOOTSTRAP_SERVERS: bootstrapBrokers,
      KAFKA_COMMAND_CONFIG: IMAGE_CLIENT_PROPERTIES,
      TOPIC: settings.topic,
      GROUP_ID: settings.groupId
    }
    const privateSubnets: ec2.SubnetSelection = settings.existingVpc
      ? { subnets: network.vpc.privateSubnets }
      : { subnetGroupName: 'private' }

    // Producer web app (S14-S17).
    const producerTask = new ecs.FargateTaskDefinition(this, 'ProducerTask', { cpu: 256, memoryLimitMiB: 512 })
    policy.attachTo(producerTask.taskRole)
    producerTask.addContainer('producer', {
      image: ecs.ContainerImage.fromEcrRepository(this.producerRepository, settings.imageTag),
      portMappings: [{ containerPort: settings.producerPort }],
      environment: { ...this.kafkaEnvironment, PORT: String(settings.producerPort) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'producer' }),
      command: ['producer']
    })
    acknowledgeTask(producerTask)
    this.producerService = new ecs.FargateService(this, 'Producer', {
      cluster: this.cluster,
      taskDefinition: producerTask,
      desiredCount: settings.producerDesiredCount,
      // Registering it with the load balancer lets the ALB (only) reach its port.
      securityGroups: [network.clientSecurityGroup],
      vpcSubnets: privateSubnets,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true }
    })

    // Consumer worker (S18-S19): no inbound traffic; ECS checks its health endpoint in the container.
    const consumerTask = new ecs.FargateTaskDefinition(this, 'ConsumerTask', { cpu: 256, memoryLimitMiB: 512 })
    policy.attachTo(consumerTask.taskRole)
    consumerTask.addContainer('consumer', {
      image: ecs.ContainerImage.fromEcrRepository(this.consumerRepository, settings.imageTag),
      portMappings: [{ containerPort: settings.consumerPort }],
      environment: {
        ...this.kafkaEnvironment,
        PORT: String(settings.consumerPort),
        WORK_UNIT_MS: String(settings.workUnitMs),
        // MSK does not create topics on use: the first consumer creates it with the stack's partitions.
        CREATE_TOPIC_PARTITIONS: String(settings.topicPartitions)
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'consumer' }),
      command: ['consumer'],
      // Longer than one record's work (up to 10 units), so a scale-in lets the record finish and commit.
      stopTimeout: Duration.seconds(Math.min(120, Math.max(30, Math.ceil((settings.workUnitMs * 11) / 1000)))),
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${settings.consumerPort}${CONSUMER_HEALTH_PATH}').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))`
        ],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(3),
        startPeriod: Duration.seconds(30),
        retries: 3
      }
    })
    acknowledgeTask(consumerTask)
    this.consumerService = new ecs.FargateService(this, 'Consumer', {
      cluster: this.cluster,
      taskDefinition: consumerTask,
      desiredCount: settings.consumerScaling.min,
      securityGroups: [network.clientSecurityGroup],
      vpcSubnets: privateSubnets,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true }
    })

    // S14: the ALB, path routing to the producer, its health check.
    const albSg = new ec2.SecurityGroup(this, 'AlbSg', {
      vpc: network.vpc,
      description: 'producer load balancer: HTTP from anywhere (the seed publishes the Send Message page)',
      allowAllOutbound: false
    })
    albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP to the producer page')
    acknowledge(
      albSg,
      'EC23',
      "The seed's producer page is public behind the load balancer (S14); only port 80 is open, and only to the ALB."
    )
    const accessLogs = new s3.Bucket(this, 'AlbAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(30) }]
    })
    acknowledge(
      accessLogs,
      'S1',
      'This bucket holds the load balancer access logs; logging its own accesses to another bucket adds cost, not insight.'
    )
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: network.vpc,
      internetFacing: true,
      securityGroup: albSg,
      dropInvalidHeaderFields: true
    })
    this.loadBalancer.logAccessLogs(accessLogs, 'alb')
    const listener = this.loadBalancer.addListener('Http', {
      port: 80,
      open: false,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not found.' })
    })
    listener.addTargets('Producer', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns([PRODUCER_PATH_PATTERN])],
      port: settings.producerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.producerService],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: PRODUCER_HEALTH_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        healthyThresholdCount: 2
      }
    })
  }
}

/**
 * What every task definition here accepts: settings, not secrets, in the environment, and the
 * execution role's ecr:GetAuthorizationToken, which has no resource-level permission.
 */
export function acknowledgeTask(task: ecs.TaskDefinition): void {
  acknowledge(
    task,
    'ECS2',
    'Only non-secret settings are environment variables (bootstrap brokers, topic, group, port, work unit); ' +
      'IAM authentication needs no secret: the credentials come from the task role.'
  )
  acknowledge(
    task.obtainExecutionRole(),
    'IAM5[Resource::*]',
    'ecr:GetAuthorizationToken accepts only "*" (no resource-level permission); the pull itself is scoped to the repository.'
  )
}
