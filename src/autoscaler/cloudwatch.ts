import {
  CloudWatchClient,
  type CloudWatchClientConfig,
  type MetricDatum,
  PutMetricDataCommand
} from '@aws-sdk/client-cloudwatch'
import pino from 'pino'
import { usageError } from '../errors.ts'
import type { Logger } from '../log.ts'
import { awsUserError } from './aws-errors.ts'
import type { Observation } from './types.ts'

/**
 * Custom metrics cannot go into `AWS/` namespaces (PutMetricData rejects them), so lagscale's
 * copy of MSK's consumer-lag metrics lives here; alarms point at this namespace instead of AWS/Kafka.
 */
export const DEFAULT_CLOUDWATCH_NAMESPACE = 'Lagscale/Kafka'

/** MSK's dimension names for its consumer-lag metrics, spaces included, so alarms and dashboards carry over. */
export const MSK_DIMENSIONS = { cluster: 'Cluster Name', group: 'Consumer Group', topic: 'Topic' } as const

/** PutMetricData's limits: 1000 data per request and a 1 MB body; we stay under the body limit with margin. */
export const PUT_METRIC_DATA_LIMITS = { maxDatums: 1000, maxBytes: 900_000 }

export interface CloudWatchPublisherOptions {
  /** The MSK cluster name, the "Cluster Name" dimension (what MSK itself would put there). */
  clusterName: string
  /** Unset: the SDK's chain (AWS_REGION, the profile). */
  region?: string
  endpoint?: string
  credentials?: NonNullable<CloudWatchClientConfig['credentials']>
  /** Default Lagscale/Kafka; `AWS/...` is refused (CloudWatch rejects custom data there). */
  namespace?: string
  logger?: Logger
  /** Attempts per call, throttling retries included (the SDK's default is 3). */
  maxAttempts?: number
}

export interface PublishResult {
  /** Metric data sent (3 per topic). */
  published: number
  /** PutMetricData calls made. */
  requests: number
  /** Why nothing was sent. */
  skipped?: 'stale' | 'empty'
}

export interface CloudWatchPublisher {
  readonly namespace: string
  /** Sends SumOffsetLag, MaxOffsetLag and EstimatedMaxTimeLag per topic; a stale observation is skipped. */
  publish(observation: Observation): Promise<PublishResult>
  close(): Promise<void>
}

/**
 * MSK's three topic-level consumer-lag metrics, computed per topic from the observation's
 * partitions the way the observation computes its group-wide ones. A topic without
 * partitions in the observation (not found) gets no data: zeros would look like "no lag" to an alarm.
 */
export function lagMetricData(observation: Observation, clusterName: string): MetricDatum[] {
  const timestamp = new Date(observation.at)
  const topics = [...new Set([...observation.topics, ...observation.partitions.map((p) => p.topic)])]
  const data: MetricDatum[] = []
  for (const topic of topics) {
    const partitions = observation.partitions.filter((p) => p.topic === topic)
    if (partitions.length === 0) continue
    let sum = 0
    let max = 0
    let maxTimeMs = 0
    for (const p of partitions) {
      sum += p.lag
      max = Math.max(max, p.lag)
      maxTimeMs = Math.max(maxTimeMs, p.timeLagMs)
    }
    const Dimensions = [
      { Name: MSK_DIMENSIONS.cluster, Value: clusterName },
      { Name: MSK_DIMENSIONS.group, Value: observation.group },
      { Name: MSK_DIMENSIONS.topic, Value: topic }
    ]
    data.push(
      { MetricName: 'SumOffsetLag', Dimensions, Timestamp: timestamp, Value: sum, Unit: 'Count' },
      { MetricName: 'MaxOffsetLag', Dimensions, Timestamp: timestamp, Value: max, Unit: 'Count' },
      { MetricName: 'EstimatedMaxTimeLag', Dimensions, Timestamp: timestamp, Value: maxTimeMs / 1000, Unit: 'Seconds' }
    )
  }
  return data
}

/** Splits data into PutMetricData requests within the count and (estimated) size limits. */
export function batchMetricData(data: MetricDatum[], limits = PUT_METRIC_DATA_LIMITS): MetricDatum[][] {
  const batches: MetricDatum[][] = []
  let batch: MetricDatum[] = []
  let bytes = 0
  for (const datum of data) {
    // JSON is the wire format (awsJson1_0); the margin covers the request envelope.
    const size = JSON.stringify(datum).length + 16
    if (batch.length > 0 && (batch.length >= limits.maxDatums || bytes + size > limits.maxBytes)) {
      batches.push(batch)
      batch = []
      bytes = 0
    }
    batch.push(datum)
    bytes += size
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

/** Publishes lagscale's observations as MSK-shaped CloudWatch metrics, for alarms and dashboards. */
export function createCloudWatchPublisher(options: CloudWatchPublisherOptions): CloudWatchPublisher {
  const namespace = options.namespace ?? DEFAULT_CLOUDWATCH_NAMESPACE
  if (!namespace) throw usageError('the CloudWatch namespace is empty (--cloudwatch-namespace)')
  if (/^AWS\//i.test(namespace)) {
    throw usageError(
      `CloudWatch does not accept custom metrics in the ${namespace} namespace; use your own, e.g. ${DEFAULT_CLOUDWATCH_NAMESPACE} (--cloudwatch-namespace)`
    )
  }
  if (!options.clusterName) throw usageError('the MSK cluster name is empty (--msk-cluster-name)')
  const log = options.logger ?? pino({ level: 'silent' })
  const client = new CloudWatchClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {})
  })

  return {
    namespace,

    async publish(observation: Observation): Promise<PublishResult> {
      // A stale observation repeats old data; publishing it would hide the outage from alarms.
      if (observation.stale) {
        log.debug({ group: observation.group, at: observation.at }, 'stale observation, not published to CloudWatch')
        return { published: 0, requests: 0, skipped: 'stale' }
      }
      const data = lagMetricData(observation, options.clusterName)
      if (data.length === 0) {
        log.debug({ group: observation.group }, 'no partitions observed, nothing to publish to CloudWatch')
        return { published: 0, requests: 0, skipped: 'empty' }
      }
      const batches = batchMetricData(data)
      for (const MetricData of batches) {
        try {
          await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData }))
        } catch (err) {
          throw awsUserError(err, {
            action: 'cloudwatch:PutMetricData',
            target: `namespace "${namespace}"`,
            endpoint: options.endpoint
          })
        }
      }
      log.debug({ namespace, data: data.length, requests: batches.length }, 'published consumer lag to CloudWatch')
      return { published: data.length, requests: batches.length }
    },

    async close(): Promise<void> {
      client.destroy()
    }
  }
}
