/**
 * A local multi-node Kafka cluster: N KRaft nodes, each broker and controller in one JVM (a
 * quorum of N controllers survives the loss of a minority), on loopback ports, sharing one
 * cluster id. Nodes can be killed (-9) and started again on the same data, which is what the
 * recovery tests do to it.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin } from '@platformatic/kafka'
import { UserError } from '../errors.ts'
import { ensureKafkaJars } from './jars.ts'
import { freePort, newClusterId, type RunningBroker, startLocalBroker } from './local-broker.ts'

export interface LocalClusterOptions {
  home: string
  /** Number of nodes (2 or more; 3 keeps a controller quorum through one node's loss). */
  brokers: number
  /** Each node's data goes to `<dataRoot>/node-<id>`. */
  dataRoot: string
  heapMb?: number
  /** Broker settings for every node (e.g. min.insync.replicas). */
  extraProperties?: Record<string, string>
  onProgress?: (message: string) => void
}

export interface ClusterNode {
  nodeId: number
  port: number
  bootstrap: string
  /** The JVM's pid while it runs; undefined while the node is down. */
  readonly pid: number | undefined
  readonly running: boolean
  /** Kills the node's JVM with SIGKILL (no controlled shutdown) and waits for it to be gone. */
  kill(): Promise<void>
  /** Starts the node again on its data; resolves when it answers. */
  start(): Promise<void>
  /** Controlled shutdown (SIGTERM). */
  stop(): Promise<void>
}

export interface LocalCluster {
  nodes: ClusterNode[]
  /** Every node's address, comma-separated: what clients take as bootstrap servers. */
  bootstrap: string
  node(nodeId: number): ClusterNode
  /** Resolves once the cluster's metadata lists `count` brokers (default: all nodes). */
  waitForBrokers(count?: number, timeoutMs?: number): Promise<void>
  /** Stops every node that runs. Idempotent. */
  stop(): Promise<void>
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  if (!Number.isInteger(options.brokers) || options.brokers < 2) {
    throw new UserError(`a local cluster needs at least 2 brokers; got ${options.brokers}`)
  }
  const progress = options.onProgress ?? (() => {})
  await ensureKafkaJars(options.home, progress)
  const clusterId = newClusterId()
  const ids = Array.from({ length: options.brokers }, (_, i) => i + 1)
  const ports = new Map<number, { port: number; controllerPort: number }>()
  for (const id of ids) ports.set(id, { port: await freePort(), controllerPort: await freePort() })
  const controllers = ids.map((nodeId) => ({ nodeId, port: ports.get(nodeId)!.controllerPort }))

  const nodes = ids.map((nodeId): ClusterNode => {
    const { port, controllerPort } = ports.get(nodeId)!
    const dataDir = join(options.dataRoot, `node-${nodeId}`)
    mkdirSync(dataDir, { recursive: true })
    let running: RunningBroker | undefined
    const start = async (): Promise<void> => {
      if (running) return
      running = await startLocalBroker({
        home: options.home,
        port,
        dataDir,
        heapMb: options.heapMb ?? 384,
        readyTimeoutMs: 120_000,
        extraProperties: options.extraProperties ?? {},
        cluster: { nodeId, controllers, clusterId, controllerPort },
        onProgress: (m) => progress(`node ${nodeId}: ${m}`)
      })
      const self = running
      void self.exited.then(() => {
        if (running === self) running = undefined
      })
    }
    return {
      nodeId,
      port,
      bootstrap: `127.0.0.1:${port}`,
      get pid() {
        return running?.pid
      },
      get running() {
        return running !== undefined
      },
      start,
      kill: async () => {
        const self = running
        if (!self) return
        process.kill(self.pid, 'SIGKILL')
        await self.exited
        running = undefined
      },
      stop: async () => {
        const self = running
        running = undefined
        await self?.stop()
      }
    }
  })

  const cluster: LocalCluster = {
    nodes,
    bootstrap: nodes.map((n) => n.bootstrap).join(','),
    node: (id) => {
      const n = nodes.find((x) => x.nodeId === id)
      if (!n) throw new Error(`no node ${id} in this cluster`)
      return n
    },
    waitForBrokers: (count = nodes.length, timeoutMs = 60_000) => waitForBrokers(nodes, count, timeoutMs),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  }
  try {
    // Together: a node answers only once a majority of the controllers has formed a quorum.
    await Promise.all(nodes.map((n) => n.start()))
    await cluster.waitForBrokers()
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return cluster
}

async function waitForBrokers(nodes: ClusterNode[], count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let seen = 0
  while (Date.now() < deadline) {
    const up = nodes.filter((n) => n.running).map((n) => n.bootstrap)
    if (up.length > 0) {
      const admin = new Admin({
        clientId: 'lagscale-cluster-probe',
        bootstrapBrokers: up,
        connectTimeout: 1000,
        requestTimeout: 2000,
        retries: 0
      })
      try {
        const metadata = await admin.metadata({ topics: [], forceUpdate: true })
        seen = metadata.brokers.size
        if (seen >= count) return
      } catch {
        // Not answering yet.
      } finally {
        await admin.close().catch(() => {})
      }
    }
    await sleep(250)
  }
  throw new UserError(`the local cluster lists ${seen} of ${count} brokers after ${Math.round(timeoutMs / 1000)} s`)
}
