import { Duration } from 'aws-cdk-lib'
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions'
import * as ecs from 'aws-cdk-lib/aws-ecs'
import * as iam from 'aws-cdk-lib/aws-iam'
import { Construct } from 'constructs'
import type { MskClientPolicy } from './client-policy.ts'
import type { MskCluster } from './msk-cluster.ts'
import { acknowledge } from './nag-suppressions.ts'
import type { Network } from './network.ts'
import { acknowledgeTask, type Services } from './services.ts'
import type { LagscaleSettings } from './settings.ts'

/** Namespace of lagscale's own lag metrics (`--publish-cloudwatch`), beside MSK's AWS/Kafka. */
export const LAGSCALE_NAMESPACE = 'Lagscale/Kafka'

/** MSK's consumer-lag metric the seed's alarms watched (S20), with MSK's dimension names. */
export function sumOffsetLag(settings: LagscaleSettings): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Kafka',
    metricName: 'SumOffsetLag',
    dimensionsMap: { 'Cluster Name': settings.clusterName, 'Consumer Group': settings.groupId, Topic: settings.topic },
    statistic: 'Maximum',
    period: Duration.seconds(settings.consumerScaling.periodSeconds)
  })
}

/**
 * S20-S21, as the seed ran it: Application Auto Scaling on the consumer service's desired count,
 * out to max when SumOffsetLag > 0 for one period, in to min after it has been 0 for five.
 *
 * Missing data: MSK emits the lag metrics only while the group is STABLE or EMPTY, so they
 * vanish during every rebalance, which a scale-out itself causes. Both alarms treat missing
 * data as not breaching: a gap never scales out (no lag was measured), and it breaks the run of
 * zero periods the scale-in needs (no zero was measured either), so a rebalance storm can only
 * delay a scale-in, never cause one.
 */
export class SeedAlarmScaling extends Construct {
  readonly target: appscaling.ScalableTarget
  readonly scaleOutAlarm: cloudwatch.Alarm
  readonly scaleInAlarm: cloudwatch.Alarm

  constructor(scope: Construct, id: string, settings: LagscaleSettings, services: Services) {
    super(scope, id)
    const s = settings.consumerScaling
    this.target = new appscaling.ScalableTarget(this, 'Target', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${services.cluster.clusterName}/${services.consumerService.serviceName}`,
      minCapacity: s.min,
      maxCapacity: s.max
    })
    const period = Duration.seconds(s.periodSeconds)
    // Each alarm sets an exact capacity (the seed's "set to 8" / "set to 1"), once per period.
    const setCapacity = (id: string, capacity: number, bound: { lowerBound: number } | { upperBound: number }) => {
      const action = new appscaling.StepScalingAction(this, id, {
        scalingTarget: this.target,
        adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
        metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
        cooldown: period
      })
      action.addAdjustment({ ...bound, adjustment: capacity })
      return action
    }
    const out = setCapacity('ScaleOut', s.max, { lowerBound: 0 })
    const scaleIn = setCapacity('ScaleIn', s.min, { upperBound: 0 })
    const metric = sumOffsetLag(settings)
    this.scaleOutAlarm = new cloudwatch.Alarm(this, 'LagAboveZero', {
      alarmDescription: `SumOffsetLag of ${settings.groupId} on ${settings.topic} > 0: scale the consumers out to ${s.max} (seed S21)`,
      metric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: s.scaleOutDatapoints,
      datapointsToAlarm: s.scaleOutDatapoints,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING
    })
    this.scaleOutAlarm.addAlarmAction(new cwActions.ApplicationScalingAction(out))
    this.scaleInAlarm = new cloudwatch.Alarm(this, 'LagAtZero', {
      alarmDescription: `SumOffsetLag of ${settings.groupId} on ${settings.topic} at 0 for ${s.scaleInDatapoints} periods: scale in to ${s.min} (seed S21)`,
      metric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: s.scaleInDatapoints,
      datapointsToAlarm: s.scaleInDatapoints,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING
    })
    this.scaleInAlarm.addAlarmAction(new cwActions.ApplicationScalingAction(scaleIn))
  }
}

/**
 * The lagscale autoscaler as a Fargate service (`lagscale autoscale --backend ecs`): reads the
 * group's lag over IAM auth and sets the consumer service's desired count. Its role may update
 * only that service. Its max is capped at the topic's partitions: more consumers would idle.
 */
export class LagscaleAutoscalerService extends Construct {
  readonly service: ecs.FargateService
  readonly taskRole: iam.IRole
  readonly max: number

  constructor(
    scope: Construct,
    id: string,
    settings: LagscaleSettings,
    network: Network,
    msk: MskCluster,
    policy: MskClientPolicy,
    services: Services
  ) {
    super(scope, id)
    const s = settings.consumerScaling
    this.max = Math.min(s.max, settings.topicPartitions)
    const task = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 256, memoryLimitMiB: 512 })
    this.taskRole = task.taskRole
    policy.attachTo(task.taskRole)
    task.addToTaskRolePolicy(
      new iam.PolicyStatement({
        sid: 'ScaleTheConsumerServiceOnly',
        actions: ['ecs:UpdateService', 'ecs:DescribeServices'],
        resources: [services.consumerService.serviceArn]
      })
    )
    task.addToTaskRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadScalingBounds',
        // Application Auto Scaling's Describe calls have no resource-level permissions.
        actions: ['application-autoscaling:DescribeScalableTargets'],
        resources: ['*']
      })
    )
    task.addToTaskRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishLagMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': LAGSCALE_NAMESPACE } }
      })
    )
    task.addContainer('autoscaler', {
      image: ecs.ContainerImage.fromEcrRepository(services.consumerRepository, settings.imageTag),
      environment: services.kafkaEnvironment,
      logging: ecs.LogDrivers.awsLogs({ logGroup: services.logGroup, streamPrefix: 'autoscaler' }),
      command: [
        'autoscale',
        '--backend',
        'ecs',
        '--ecs-cluster',
        services.cluster.clusterName,
        '--ecs-service',
        services.consumerService.serviceName,
        '--policy',
        s.policy,
        '--min',
        String(s.min),
        '--max',
        String(this.max),
        '--interval',
        '30s',
        '--publish-cloudwatch',
        '--msk-cluster-name',
        msk.clusterName,
        '--cloudwatch-namespace',
        LAGSCALE_NAMESPACE,
        '--no-dashboard'
      ]
    })
    acknowledgeTask(task)
    acknowledge(
      task.taskRole,
      'IAM5[Resource::*]',
      'application-autoscaling:DescribeScalableTargets has no resource-level permission; cloudwatch:PutMetricData ' +
        `is limited to the ${LAGSCALE_NAMESPACE} namespace by a condition.`
    )
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: services.cluster,
      taskDefinition: task,
      desiredCount: 1,
      securityGroups: [network.clientSecurityGroup],
      vpcSubnets: settings.existingVpc ? { subnets: network.vpc.privateSubnets } : { subnetGroupName: 'private' },
      // One decision maker at a time: stop the old task before the new one starts.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { rollback: true }
    })
  }
}
