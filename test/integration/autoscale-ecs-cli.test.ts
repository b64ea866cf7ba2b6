/**
 * `lagscale autoscale --backend ecs --publish-cloudwatch` as a user runs it: a real
 * process reading lag from the test broker and driving an ECS service and CloudWatch in
 * moto's server over HTTP, with the AWS SDK's default credential chain (env keys).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { CloudWatchClient, paginateListMetrics } from '@aws-sdk/client-cloudwatch'
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs'
import { runCli, spawnCli, uniqueName } from '../support/cli.ts'
import { freshTopic } from '../support/kafka.ts'
import { createEcsService, isolateAwsEnvironment, type MotoServer, startMoto } from '../support/moto.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'

let moto: MotoServer
before(async () => {
  isolateAwsEnvironment()
  moto = await startMoto()
})
after(async () => {
  await moto?.stop()
})

test('autoscale --backend ecs: lag on 4 partitions sets the service to 4 tasks and publishes MSK-named metrics', async (t) => {
  const aws = { region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials }
  const ecs = new ECSClient(aws)
  const { cluster, service } = await createEcsService(ecs, { desired: 1 })

  const topic = await freshTopic('ecs-cli', 4)
  const group = uniqueName('ecs-cli')
  const produced = await runCli(['produce', '--bootstrap-server', testEnv().bootstrap, '--topic', topic], {
    input: `${Array.from({ length: 40 }, (_, i) => String(i % 10)).join('\n')}\n`
  })
  assert.equal(produced.code, 0, produced.stderr)

  const child = spawnCli(
    [
      'autoscale',
      '--bootstrap-server',
      testEnv().bootstrap,
      '--group',
      group,
      '--topic',
      topic,
      '--backend',
      'ecs',
      '--ecs-cluster',
      cluster,
      '--ecs-service',
      service,
      '--aws-region',
      moto.region,
      '--aws-endpoint',
      moto.endpoint,
      '--publish-cloudwatch',
      '--msk-cluster-name',
      'MSKTutorialCluster',
      '--interval',
      '1s',
      '--record-time',
      '10s',
      '--no-dashboard'
    ],
    {
      AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: moto.credentials.sessionToken
    }
  )
  let out = ''
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  try {
    // 40 records x 10 s on 4 partitions: far over the 60 s target, capped at the 4 partitions.
    const desired = await waitFor(
      'the ECS service at 4 tasks',
      async () => {
        const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))).services?.[0]
        return s?.desiredCount === 4 && s.desiredCount
      },
      30_000,
      { everyMs: 250, detail: () => out.slice(-1500) }
    )
    assert.equal(desired, 4)
    // The decision is logged once the backend took it, a moment after ECS shows the new count.
    await waitFor('the decision in the log', () => /scale-out 1 -> 4: .*capped at 4/.test(out), 10_000, {
      detail: () => out.slice(-1500)
    })

    const cloudwatch = new CloudWatchClient(aws)
    const metrics = await waitFor(
      'SumOffsetLag in CloudWatch',
      async () => {
        const found = []
        for await (const page of paginateListMetrics({ client: cloudwatch }, { Namespace: 'Lagscale/Kafka' })) {
          found.push(...(page.Metrics ?? []))
        }
        const mine = found.filter((m) => m.Dimensions?.some((d) => d.Name === 'Consumer Group' && d.Value === group))
        return mine.length >= 3 && mine
      },
      30_000,
      { everyMs: 500 }
    )
    assert.deepEqual([...new Set(metrics.map((m) => m.MetricName))].sort(), [
      'EstimatedMaxTimeLag',
      'MaxOffsetLag',
      'SumOffsetLag'
    ])
    for (const m of metrics) {
      assert.deepEqual(
        m.Dimensions?.map((d) => d.Name).sort(),
        ['Cluster Name', 'Consumer Group', 'Topic'],
        "MSK's dimension names"
      )
    }
    cloudwatch.destroy()
  } finally {
    child.kill('SIGTERM')
    const code = await exited
    ecs.destroy()
    t.diagnostic(`autoscale exited ${code}`)
    assert.equal(code, 0, out.slice(-1000))
  }
})
