import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { ApplicationAutoScalingClient, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling'
import { CloudWatchClient, GetMetricDataCommand, type Metric, paginateListMetrics } from '@aws-sdk/client-cloudwatch'
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs'
import pino from 'pino'
import { createEcsBackend, type EcsBackend, type EcsBackendOptions } from '../../src/autoscaler/backends/ecs.ts'
import { createCloudWatchPublisher, MSK_DIMENSIONS } from '../../src/autoscaler/cloudwatch.ts'
import type { Decision, Observation, PartitionObservation } from '../../src/autoscaler/types.ts'
import { UserError } from '../../src/errors.ts'
import type { Logger } from '../../src/log.ts'
import { createEcsService, isolateAwsEnvironment, type MotoServer, startMoto } from '../support/moto.ts'
import { observationOf, partitionObservation } from '../support/observations.ts'

let moto: MotoServer
let ecs: ECSClient
const backends: EcsBackend[] = []
let seq = 0
const unique = (prefix: string): string => `${prefix}-${process.pid}-${++seq}`

before(async () => {
  isolateAwsEnvironment()
  moto = await startMoto()
  ecs = new ECSClient(aws())
})

after(async () => {
  await Promise.all(backends.map((b) => b.close()))
  ecs?.destroy()
  await moto?.stop()
})

/** Region, endpoint and fake keys, explicit on every client. */
function aws(): { region: string; endpoint: string; credentials: MotoServer['credentials'] } {
  return { region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials }
}

function captureLogs(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) })
  return { logger, lines }
}

const decision = (desired: number): Decision => ({
  at: Date.now(),
  policy: 'test',
  desired,
  from: 0,
  action: 'scale-out',
  reason: 'test'
})

function backend(options: Partial<EcsBackendOptions> & { cluster: string; service: string }): EcsBackend {
  const b = createEcsBackend({ ...aws(), ...options })
  backends.push(b)
  return b
}

async function desiredCount(cluster: string, service: string): Promise<number | undefined> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))
  return out.services?.[0]?.desiredCount
}

describe('ECS backend against moto', () => {
  test('status reports the service; scaleTo sets desiredCount, and skips UpdateService when it already matches', async () => {
    const { cluster, service } = await createEcsService(ecs, { desired: 1 })
    const b = backend({ cluster, service })
    const status = await b.status()
    assert.equal(status.desired, 1)
    assert.equal(typeof status.running, 'number')
    assert.equal(status.detail?.['status'], 'ACTIVE')
    assert.equal(typeof status.detail?.['pending'], 'number')
    assert.ok(Array.isArray(status.detail?.['deployments']))

    await b.scaleTo(3, decision(3))
    assert.equal(await desiredCount(cluster, service), 3)
    assert.equal((await b.status()).desired, 3)
    assert.deepEqual(b.lastScale && { ...b.lastScale, limits: undefined }, {
      requested: 3,
      desired: 3,
      previous: 1,
      updated: true,
      limits: undefined
    })

    const again = await b.scale(3)
    assert.equal(again.updated, false, 'no UpdateService when desiredCount already matches')
    assert.equal(again.previous, 3)
  })

  test('a count above max (or below min) is clamped, and the clamp is reported and logged', async () => {
    const { cluster, service } = await createEcsService(ecs, { desired: 1 })
    const { logger, lines } = captureLogs()
    const b = backend({ cluster, service, min: 1, max: 5, logger })

    const high = await b.scale(12, decision(12))
    assert.equal(high.desired, 5)
    assert.equal(high.bound, 'max')
    assert.equal(high.boundBy, 'options')
    assert.equal(high.updated, true)
    assert.equal(await desiredCount(cluster, service), 5)
    const clampLog = lines.find((l) => l['bound'] === 'max')
    assert.ok(clampLog, 'the clamp is logged')
    assert.match(String(clampLog['msg']), /asked for 12 consumers, clamped to the autoscaler's max of 5/)
    assert.equal((await b.status()).detail?.['lastBound'], 'max')

    const low = await b.scale(0)
    assert.equal(low.desired, 1)
    assert.equal(low.bound, 'min')
    assert.equal(await desiredCount(cluster, service), 1)
  })

  test('an Application Auto Scaling scalable target narrows the bounds', async () => {
    const { cluster, service } = await createEcsService(ecs, { desired: 3 })
    const autoscaling = new ApplicationAutoScalingClient(aws())
    await autoscaling.send(
      new RegisterScalableTargetCommand({
        ServiceNamespace: 'ecs',
        ResourceId: `service/${cluster}/${service}`,
        ScalableDimension: 'ecs:service:DesiredCount',
        MinCapacity: 2,
        MaxCapacity: 4
      })
    )
    autoscaling.destroy()
    const b = backend({ cluster, service, min: 0, max: 10 })

    assert.deepEqual(await b.limits(), {
      min: 2,
      max: 4,
      source: 'scalable-target',
      scalableTarget: { min: 2, max: 4 }
    })
    const high = await b.scale(8)
    assert.deepEqual([high.desired, high.bound, high.boundBy], [4, 'max', 'scalable-target'])
    assert.equal(await desiredCount(cluster, service), 4)
    const low = await b.scale(0)
    assert.deepEqual([low.desired, low.bound, low.boundBy], [2, 'min', 'scalable-target'])
    assert.equal(await desiredCount(cluster, service), 2)

    // The autoscaler's own max still applies when it is the tighter one.
    const tight = backend({ cluster, service, max: 3 })
    const capped = await tight.scale(8)
    assert.deepEqual([capped.desired, capped.bound, capped.boundBy], [3, 'max', 'options'])
  })

  test('an unknown service or cluster gives one sentence that names it', async () => {
    const { cluster } = await createEcsService(ecs, { desired: 1 })
    const missing = backend({ cluster, service: 'no-such-service' })
    await assert.rejects(missing.scaleTo(2, decision(2)), (err: Error) => {
      assert.ok(err instanceof UserError)
      assert.equal(err.message, `ECS service "no-such-service" in cluster "${cluster}" not found (region us-east-1)`)
      return true
    })
    await assert.rejects(missing.status(), /ECS service "no-such-service" .* not found/)

    const noCluster = backend({ cluster: 'no-such-cluster', service: 'consumer' })
    await assert.rejects(noCluster.status(), (err: Error) => {
      assert.ok(err instanceof UserError)
      assert.equal(err.message, 'ECS cluster "no-such-cluster" not found (region us-east-1)')
      assert.ok(!err.message.includes('\n'))
      return true
    })
  })

  test('bad bounds are refused up front', () => {
    assert.throws(
      () => createEcsBackend({ cluster: 'c', service: 's', min: 3, max: 2 }),
      /--min \(3\) must not be above --max \(2\)/
    )
    assert.throws(() => createEcsBackend({ cluster: 'c', service: 's', max: -1 }), /--max must be a whole number/)
  })
})

/** A stand-in AWS endpoint for what moto cannot do: throttle, deny. Answers by X-Amz-Target. */
async function fakeAws(
  answer: (operation: string) => { status: number; body: unknown }
): Promise<{ endpoint: string; calls: string[]; server: Server }> {
  const calls: string[] = []
  const server = createServer((req: IncomingMessage, res) => {
    req.resume()
    req.on('end', () => {
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? ''
      calls.push(operation)
      const { status, body } = answer(operation)
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
      res.end(JSON.stringify(body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { endpoint: `http://127.0.0.1:${port}`, calls, server }
}

const awsError = (type: string, message: string): { status: number; body: unknown } => ({
  status: 400,
  body: { __type: type, message }
})

const fakeService = {
  serviceName: 'consumer',
  clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/lagscale',
  status: 'ACTIVE',
  desiredCount: 1,
  runningCount: 1,
  pendingCount: 0,
  deployments: []
}

describe('AWS errors (fake endpoint)', () => {
  test('throttling is retried by the SDK, then reported in one sentence', async () => {
    const fake = await fakeAws(() => awsError('ThrottlingException', 'Rate exceeded'))
    try {
      const b = backend({ cluster: 'lagscale', service: 'consumer', endpoint: fake.endpoint, maxAttempts: 3 })
      await assert.rejects(b.status(), (err: Error) => {
        assert.ok(err instanceof UserError)
        assert.equal(
          err.message,
          'AWS kept throttling ecs:DescribeServices on ECS service "consumer" in cluster "lagscale" after 3 attempts; lengthen the autoscaler\'s interval or ask for a higher API rate quota'
        )
        return true
      })
      assert.deepEqual(fake.calls, ['DescribeServices', 'DescribeServices', 'DescribeServices'])
    } finally {
      fake.server.close()
    }
  })

  test('access denied names the missing permission, without the AWS message', async () => {
    const fake = await fakeAws((op) =>
      op === 'DescribeServices'
        ? { status: 200, body: { services: [fakeService], failures: [] } }
        : awsError(
            'AccessDeniedException',
            'User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to perform: ecs:UpdateService'
          )
    )
    try {
      const b = backend({ cluster: 'lagscale', service: 'consumer', endpoint: fake.endpoint })
      await assert.rejects(
        b.scaleTo(2, decision(2)),
        new UserError(
          'ecs:UpdateService on ECS service "consumer" in cluster "lagscale" was denied; the IAM role or user needs the ecs:UpdateService permission (see docs/aws-backends.md)'
        )
      )
    } finally {
      fake.server.close()
    }
  })

  test('an unreachable endpoint is one sentence naming it', async () => {
    const b = backend({ cluster: 'lagscale', service: 'consumer', endpoint: 'http://127.0.0.1:1', maxAttempts: 1 })
    await assert.rejects(
      b.status(),
      new UserError('cannot reach AWS for ecs:DescribeServices at http://127.0.0.1:1 (ECONNREFUSED)')
    )
  })

  test('a denied PutMetricData names the missing permission', async () => {
    const fake = await fakeAws(() =>
      awsError('AccessDeniedException', 'not authorized to perform: cloudwatch:PutMetricData')
    )
    const publisher = createCloudWatchPublisher({ ...aws(), endpoint: fake.endpoint, clusterName: 'c' })
    try {
      await assert.rejects(
        publisher.publish(observation('g', [partition('t', 0, 1, 0)])),
        new UserError(
          'cloudwatch:PutMetricData on namespace "Lagscale/Kafka" was denied; the IAM role or user needs the cloudwatch:PutMetricData permission (see docs/aws-backends.md)'
        )
      )
    } finally {
      await publisher.close()
      fake.server.close()
    }
  })

  test('a denied DescribeScalableTargets falls back to the options, said once', async () => {
    const fake = await fakeAws((op) => {
      if (op === 'DescribeServices') return { status: 200, body: { services: [fakeService], failures: [] } }
      if (op === 'UpdateService') return { status: 200, body: { service: fakeService } }
      return awsError(
        'AccessDeniedException',
        'not authorized to perform: application-autoscaling:DescribeScalableTargets'
      )
    })
    try {
      const { logger, lines } = captureLogs()
      const b = backend({ cluster: 'lagscale', service: 'consumer', endpoint: fake.endpoint, max: 4, logger })
      const first = await b.scale(9)
      assert.deepEqual([first.desired, first.bound, first.limits.source], [4, 'max', 'options'])
      await b.scale(7)
      const warnings = lines.filter((l) => l['level'] === 40)
      assert.equal(warnings.length, 1, 'the fallback is logged once')
      assert.match(String(warnings[0]?.['msg']), /application-autoscaling:DescribeScalableTargets .* was denied/)
      assert.equal(fake.calls.filter((c) => c === 'DescribeScalableTargets').length, 1, 'not asked again once denied')
    } finally {
      fake.server.close()
    }
  })
})

const partition = (topic: string, n: number, lag: number, timeLagMs: number): PartitionObservation =>
  partitionObservation(n, lag, { topic, timeLagMs })

const observation = (group: string, partitions: PartitionObservation[], stale = false): Observation =>
  observationOf(Date.now(), partitions, { group, stale })

describe('CloudWatch publisher against moto', () => {
  const namespace = 'Lagscale/Kafka'

  async function metrics(cw: CloudWatchClient, clusterName: string): Promise<Metric[]> {
    const out: Metric[] = []
    const pages = paginateListMetrics(
      { client: cw },
      { Namespace: namespace, Dimensions: [{ Name: MSK_DIMENSIONS.cluster, Value: clusterName }] }
    )
    for await (const page of pages) out.push(...(page.Metrics ?? []))
    return out
  }

  test('publishes MSK-shaped consumer-lag metrics per topic, with MSK dimension names', async () => {
    const clusterName = unique('msk')
    const publisher = createCloudWatchPublisher({ ...aws(), clusterName })
    const cw = new CloudWatchClient(aws())
    try {
      const obs = observation('group_id', [
        partition('Topic_from_java', 0, 7, 4000),
        partition('Topic_from_java', 1, 5, 9500),
        partition('other', 0, 2, 1000)
      ])
      assert.deepEqual(await publisher.publish(obs), { published: 6, requests: 1 })

      const listed = await metrics(cw, clusterName)
      assert.deepEqual(listed.map((m) => `${m.MetricName} ${dims(m)['Topic']}`).sort(), [
        'EstimatedMaxTimeLag Topic_from_java',
        'EstimatedMaxTimeLag other',
        'MaxOffsetLag Topic_from_java',
        'MaxOffsetLag other',
        'SumOffsetLag Topic_from_java',
        'SumOffsetLag other'
      ])
      for (const m of listed) {
        assert.deepEqual(Object.keys(dims(m)).sort(), ['Cluster Name', 'Consumer Group', 'Topic'])
        assert.equal(dims(m)['Consumer Group'], 'group_id')
      }

      const values = await metricValues(cw, clusterName, 'group_id', obs.at, [
        ['SumOffsetLag', 'Topic_from_java'],
        ['MaxOffsetLag', 'Topic_from_java'],
        ['EstimatedMaxTimeLag', 'Topic_from_java'],
        ['SumOffsetLag', 'other'],
        ['MaxOffsetLag', 'other'],
        ['EstimatedMaxTimeLag', 'other']
      ])
      assert.deepEqual(values, [12, 7, 9.5, 2, 2, 1])
    } finally {
      cw.destroy()
      await publisher.close()
    }
  })

  test('a stale observation is not published', async () => {
    const clusterName = unique('msk')
    const { logger, lines } = captureLogs()
    const publisher = createCloudWatchPublisher({ ...aws(), clusterName, logger })
    const cw = new CloudWatchClient(aws())
    try {
      const result = await publisher.publish(observation('group_id', [partition('t', 0, 50, 1000)], true))
      assert.deepEqual(result, { published: 0, requests: 0, skipped: 'stale' })
      assert.deepEqual(await metrics(cw, clusterName), [])
      assert.ok(
        lines.some((l) => l['level'] === 20 && /stale/.test(String(l['msg']))),
        'skipped with a debug log'
      )
    } finally {
      cw.destroy()
      await publisher.close()
    }
  })

  test('many topics are split into PutMetricData requests within the limits', async () => {
    const clusterName = unique('msk')
    const publisher = createCloudWatchPublisher({ ...aws(), clusterName })
    const cw = new CloudWatchClient(aws())
    try {
      const parts = Array.from({ length: 400 }, (_, i) => partition(`topic-${i}`, 0, i, 0))
      assert.deepEqual(await publisher.publish(observation('g', parts)), { published: 1200, requests: 2 })
      assert.equal((await metrics(cw, clusterName)).length, 1200)
    } finally {
      cw.destroy()
      await publisher.close()
    }
  })

  test('an AWS/ namespace is refused (CloudWatch rejects custom data there)', () => {
    assert.throws(
      () => createCloudWatchPublisher({ ...aws(), clusterName: 'c', namespace: 'AWS/Kafka' }),
      /CloudWatch does not accept custom metrics in the AWS\/Kafka namespace/
    )
  })
})

function dims(m: Metric): Record<string, string> {
  return Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? '']))
}

/** The Maximum of each metric over the minute around `at`, via GetMetricData. */
async function metricValues(
  cw: CloudWatchClient,
  clusterName: string,
  group: string,
  at: number,
  wanted: [metric: string, topic: string][]
): Promise<number[]> {
  const out = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(at - 5 * 60_000),
      EndTime: new Date(at + 5 * 60_000),
      MetricDataQueries: wanted.map(([metric, topic], i) => ({
        Id: `m${i}`,
        MetricStat: {
          Metric: {
            Namespace: 'Lagscale/Kafka',
            MetricName: metric,
            Dimensions: [
              { Name: MSK_DIMENSIONS.cluster, Value: clusterName },
              { Name: MSK_DIMENSIONS.group, Value: group },
              { Name: MSK_DIMENSIONS.topic, Value: topic }
            ]
          },
          Period: 60,
          Stat: 'Maximum'
        }
      }))
    })
  )
  return wanted.map((_, i) => {
    const r = out.MetricDataResults?.find((x) => x.Id === `m${i}`)
    assert.equal(r?.Values?.length, 1, `one value for m${i}`)
    return r?.Values?.[0] ?? Number.NaN
  })
}
