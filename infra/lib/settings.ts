/**
 * Every setting of the stack, with the seed's choice as the default (S1-S21). One typed object,
 * resolved once (resolveSettings) and passed to each construct.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs'

export type MonitoringLevel = 'DEFAULT' | 'PER_BROKER' | 'PER_TOPIC_PER_BROKER' | 'PER_TOPIC_PER_PARTITION'
export type ConsumerScalingMode = 'seed' | 'lagscale'

/** A VPC that exists already: given by id and subnets, so synthesis needs no AWS lookup. */
export interface ExistingVpc {
  vpcId: string
  availabilityZones: string[]
  /** Subnets for MSK brokers and tasks (one per AZ, with a route out for ECR and logs). */
  privateSubnetIds: string[]
  /** Subnets for the load balancer. */
  publicSubnetIds: string[]
}

export interface LagscaleSettings {
  /** S1: the MSK cluster's name (the "Cluster Name" dimension of its metrics). */
  clusterName: string
  kafkaVersion: string
  /** S1: "a small one is fine". */
  brokerInstanceType: string
  /** S1: brokers are spread over the AZs: broker count = AZs x this. */
  brokersPerAz: number
  brokerVolumeGiB: number
  /** S1: AZs of the new VPC (2 or more); ignored with existingVpc (its AZs count). */
  azCount: number
  existingVpc?: ExistingVpc
  /** S3: CloudWatch metrics level. PER_TOPIC_PER_PARTITION adds OffsetLag per partition (the seed's skew question, S22). */
  monitoringLevel: MonitoringLevel
  /** S3: retention of the broker log group the stack creates. */
  brokerLogRetention: RetentionDays
  /** S5: the EC2 client host (SSM Session Manager; SSH only when sshCidr is given). */
  clientHost: { enabled: boolean; instanceType: string; sshCidr?: string; lagscalePackage: string }
  /** S17/S18: the services' topic and consumer group. */
  topic: string
  groupId: string
  /** Partitions of the topic (the consumer creates it when missing); the lagscale autoscaler's max is capped at it. */
  topicPartitions: number
  /** S12. */
  producerPort: number
  consumerPort: number
  /** Tag of both images in their ECR repositories (CI/CD deploys the commit's SHA). */
  imageTag: string
  /** The images stack's repositories: <prefix>/producer and <prefix>/consumer. */
  repositoryPrefix: string
  /** The consumer's WORK_UNIT_MS (S19: 1000). */
  workUnitMs: number
  producerDesiredCount: number
  /** S20-S21: how the consumer service scales. */
  consumerScaling: {
    mode: ConsumerScalingMode
    min: number
    max: number
    /** seed: CloudWatch period of the SumOffsetLag alarms, seconds (S21: 1 minute). */
    periodSeconds: number
    /** seed: out when SumOffsetLag > 0 for this many periods (S21: 1). */
    scaleOutDatapoints: number
    /** seed: in after this many periods at 0 (S21: 5). */
    scaleInDatapoints: number
    /** lagscale: its --policy. */
    policy: 'drain' | 'keda' | 'seed'
  }
  /** `cdk destroy` deletes the image repositories (with their images); else they are kept. */
  removeOnDestroy: boolean
}

export type LagscaleSettingsInput = Partial<Omit<LagscaleSettings, 'clientHost' | 'consumerScaling'>> & {
  clientHost?: Partial<LagscaleSettings['clientHost']>
  consumerScaling?: Partial<LagscaleSettings['consumerScaling']>
}

export const DEFAULT_SETTINGS: LagscaleSettings = {
  clusterName: 'MSKTutorialCluster',
  kafkaVersion: '3.6.0',
  brokerInstanceType: 'kafka.t3.small',
  brokersPerAz: 1,
  brokerVolumeGiB: 10,
  azCount: 2,
  monitoringLevel: 'PER_TOPIC_PER_PARTITION',
  brokerLogRetention: RetentionDays.ONE_WEEK,
  clientHost: { enabled: false, instanceType: 't3.micro', lagscalePackage: 'lagscale' },
  topic: 'Topic_from_java',
  groupId: 'group_id',
  topicPartitions: 8,
  producerPort: 8082,
  consumerPort: 8081,
  imageTag: 'latest',
  repositoryPrefix: 'lagscale',
  workUnitMs: 1000,
  producerDesiredCount: 1,
  consumerScaling: {
    mode: 'seed',
    min: 1,
    max: 8,
    periodSeconds: 60,
    scaleOutDatapoints: 1,
    scaleInDatapoints: 5,
    policy: 'drain'
  },
  removeOnDestroy: true
}

/** Merges the input over the defaults and checks it; throws one clear line naming the bad setting. */
export function resolveSettings(input: LagscaleSettingsInput = {}): LagscaleSettings {
  const s: LagscaleSettings = {
    ...DEFAULT_SETTINGS,
    ...input,
    clientHost: { ...DEFAULT_SETTINGS.clientHost, ...input.clientHost },
    consumerScaling: { ...DEFAULT_SETTINGS.consumerScaling, ...input.consumerScaling }
  }
  const whole = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`lagscale infra: ${name} must be a whole number from ${min} to ${max}; got ${value}`)
    }
  }
  whole('brokersPerAz', s.brokersPerAz, 1)
  whole('brokerVolumeGiB', s.brokerVolumeGiB, 1, 16_384)
  whole('azCount', s.azCount, 2, 3)
  whole('topicPartitions', s.topicPartitions, 1)
  whole('producerPort', s.producerPort, 1, 65_535)
  whole('consumerPort', s.consumerPort, 1, 65_535)
  whole('workUnitMs', s.workUnitMs, 0)
  whole('producerDesiredCount', s.producerDesiredCount, 0)
  whole('consumerScaling.min', s.consumerScaling.min, 0)
  whole('consumerScaling.max', s.consumerScaling.max, Math.max(1, s.consumerScaling.min))
  whole('consumerScaling.periodSeconds', s.consumerScaling.periodSeconds, 10)
  whole('consumerScaling.scaleOutDatapoints', s.consumerScaling.scaleOutDatapoints, 1)
  whole('consumerScaling.scaleInDatapoints', s.consumerScaling.scaleInDatapoints, 1)
  if (s.consumerScaling.periodSeconds < 60 && ![10, 30].includes(s.consumerScaling.periodSeconds)) {
    throw new Error('lagscale infra: consumerScaling.periodSeconds must be 10, 30 or a multiple of 60')
  }
  if (s.consumerScaling.periodSeconds >= 60 && s.consumerScaling.periodSeconds % 60 !== 0) {
    throw new Error('lagscale infra: consumerScaling.periodSeconds must be 10, 30 or a multiple of 60')
  }
  if (!['seed', 'lagscale'].includes(s.consumerScaling.mode)) {
    throw new Error(`lagscale infra: consumerScaling.mode must be seed or lagscale; got ${s.consumerScaling.mode}`)
  }
  if (s.clientHost.sshCidr !== undefined) {
    const cidr = s.clientHost.sshCidr
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) {
      throw new Error(`lagscale infra: clientHost.sshCidr must be an IPv4 CIDR such as 203.0.113.7/32; got ${cidr}`)
    }
    if (cidr.endsWith('/0')) {
      throw new Error('lagscale infra: clientHost.sshCidr must not open SSH to the whole internet (/0)')
    }
  }
  if (s.existingVpc) {
    const v = s.existingVpc
    if (v.availabilityZones.length < 2) throw new Error('lagscale infra: existingVpc needs 2 or more availabilityZones')
    if (v.privateSubnetIds.length !== v.availabilityZones.length) {
      throw new Error('lagscale infra: existingVpc.privateSubnetIds needs one subnet per availability zone')
    }
  }
  if (!/^[a-z0-9][a-z0-9._-]{0,60}$/.test(s.repositoryPrefix)) {
    throw new Error(
      `lagscale infra: repositoryPrefix must be lower-case letters, digits, . _ -; got ${s.repositoryPrefix}`
    )
  }
  if (!/^[a-zA-Z0-9-]{1,64}$/.test(s.clusterName)) {
    throw new Error(`lagscale infra: clusterName must be 1-64 letters, digits or dashes; got ${s.clusterName}`)
  }
  return s
}

/** Settings from `cdk deploy -c key=value` context (strings), e.g. -c consumerScaling=lagscale -c sshCidr=203.0.113.7/32. */
export function settingsFromContext(get: (key: string) => unknown): LagscaleSettingsInput {
  const str = (key: string): string | undefined => {
    const v = get(key)
    return v === undefined || v === null || v === '' ? undefined : String(v)
  }
  const num = (key: string): number | undefined => {
    const v = str(key)
    return v === undefined ? undefined : Number(v)
  }
  const input: LagscaleSettingsInput = {}
  const set = <K extends keyof LagscaleSettingsInput>(key: K, value: LagscaleSettingsInput[K] | undefined): void => {
    if (value !== undefined) input[key] = value
  }
  set('clusterName', str('clusterName'))
  set('kafkaVersion', str('kafkaVersion'))
  set('brokerInstanceType', str('brokerInstanceType'))
  set('brokersPerAz', num('brokersPerAz'))
  set('azCount', num('azCount'))
  set('monitoringLevel', str('monitoringLevel') as MonitoringLevel | undefined)
  set('topic', str('topic'))
  set('groupId', str('groupId'))
  set('topicPartitions', num('topicPartitions'))
  set('imageTag', str('imageTag'))
  set('repositoryPrefix', str('repositoryPrefix'))
  set('workUnitMs', num('workUnitMs'))
  const host = str('clientHost')
  const sshCidr = str('sshCidr')
  if (host !== undefined || sshCidr !== undefined) {
    input.clientHost = {
      enabled: host === 'true' || sshCidr !== undefined,
      ...(sshCidr !== undefined ? { sshCidr } : {})
    }
  }
  const mode = str('consumerScaling')
  if (mode !== undefined) input.consumerScaling = { mode: mode as ConsumerScalingMode }
  return input
}
