import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AutoscalerConfig } from '../autoscaler/config.ts'
import { createAutoscaler, type RunningAutoscaler } from '../autoscaler/index.ts'
import { isBrokerProcess, type RunningBroker, readBrokerState, startLocalBroker } from '../broker/local-broker.ts'
import { createAdmin } from '../kafka/clients.ts'
import { type ConnectionConfig, resolveConnectionConfig } from '../kafka/connection-config.ts'
import { createTopic, deleteTopic, partitionCount, topicExists } from '../kafka/topics.ts'
import type { Logger } from '../log.ts'
import { producerConfig } from '../producer/config.ts'
import { type ProducerApp, startProducerApp } from '../producer/server.ts'

export interface PipelineOptions {
  home: string
  brokerPort: number
  partitions: number
  /** Delete and recreate the topic (and so start the group from scratch). */
  fresh: boolean
  producerPort: number
  /** The autoscaler config (backend local); its topics[0] and group are the pipeline's. */
  autoscaler: AutoscalerConfig
  logger: Logger
  /** Progress lines for the person waiting (broker download, topic, ...). */
  progress: (message: string) => void
}

export interface Pipeline {
  bootstrap: string
  topic: string
  group: string
  partitions: number
  producerUrl: string
  dashboardUrl: string | undefined
  workerLogDir: string
  /** Whether this run started the broker (and so stops it). */
  ownsBroker: boolean
  scaler: RunningAutoscaler
  close(): Promise<void>
}

/**
 * The whole seed pipeline on this machine: local broker, the topic, the producer web app,
 * a local pool of consumer workers scaled by the autoscaler, and the dashboard. close()
 * stops it in the reverse order, each part gracefully.
 */
export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const topic = o.autoscaler.topics[0]!
  const group = o.autoscaler.group
  const undo: (() => Promise<void>)[] = []
  const rollback = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => {})
  }
  try {
    const { bootstrap, broker } = await ensureBroker(o)
    if (broker) undo.push(() => broker.stop())
    const connection = resolveConnectionConfig({ bootstrapServer: bootstrap, clientId: 'lagscale-up', env: {} })
    const partitions = await ensureTopic(connection, topic, o)

    const producer: ProducerApp = await startProducerApp(
      producerConfig({ connection, port: o.producerPort, host: '127.0.0.1', topic }),
      { logger: o.logger.child({ component: 'producer' }) }
    )
    undo.push(() => producer.close())

    const workerLogDir = join(o.home, 'up', String(o.brokerPort))
    mkdirSync(workerLogDir, { recursive: true })
    const logs = new Map<string, WriteStream>()
    const scaler = await createAutoscaler({
      connection,
      config: { ...o.autoscaler, backend: 'local' },
      logger: o.logger.child({ component: 'autoscaler' }),
      onWorkerOutput: (worker, line) => {
        let out = logs.get(worker.id)
        if (!out) {
          out = createWriteStream(join(workerLogDir, `${worker.id}.log`), { flags: 'w' })
          logs.set(worker.id, out)
        }
        out.write(`${line}\n`)
      }
    })
    undo.push(async () => {
      await scaler.close()
      for (const out of logs.values()) out.end()
    })

    let closing: Promise<void> | undefined
    return {
      bootstrap,
      topic,
      group,
      partitions,
      producerUrl: `${producer.url}/msk-producer`,
      dashboardUrl: scaler.dashboardUrl,
      workerLogDir,
      ownsBroker: broker !== undefined,
      scaler,
      close: () => {
        closing ??= rollback()
        return closing
      }
    }
  } catch (err) {
    await rollback()
    throw err
  }
}

/** Reuses a lagscale broker already running on the port; otherwise starts one (and owns it). */
async function ensureBroker(o: PipelineOptions): Promise<{ bootstrap: string; broker?: RunningBroker }> {
  const running = readBrokerState(o.home, o.brokerPort)
  if (running && isBrokerProcess(running)) {
    o.progress(`using the broker already running at ${running.bootstrap} (pid ${running.pid})`)
    return { bootstrap: running.bootstrap }
  }
  const broker = await startLocalBroker({ home: o.home, port: o.brokerPort, onProgress: o.progress })
  return { bootstrap: broker.bootstrap, broker }
}

async function ensureTopic(connection: ConnectionConfig, topic: string, o: PipelineOptions): Promise<number> {
  const admin = createAdmin(connection)
  try {
    if (await topicExists(admin, topic)) {
      if (o.fresh) {
        await deleteTopic(admin, topic)
        // Deletion completes in the background; creating it again before that fails.
        const deadline = Date.now() + 30_000
        while ((await topicExists(admin, topic)) && Date.now() < deadline) await sleep(100)
        o.progress(`deleted ${topic} (--fresh)`)
      } else {
        const existing = await partitionCount(admin, topic)
        if (existing !== o.partitions) {
          o.progress(
            `${topic} already exists with ${existing} partition(s), not ${o.partitions}: using it as it is ` +
              '(add --fresh to recreate it)'
          )
        }
        return existing
      }
    }
    await createTopic(admin, { topic, partitions: o.partitions, replicationFactor: 1 })
    o.progress(`created ${topic} with ${o.partitions} partition(s)`)
    return o.partitions
  } finally {
    await admin.close().catch(() => {})
  }
}
