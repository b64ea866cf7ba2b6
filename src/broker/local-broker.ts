import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Admin } from '@platformatic/kafka'
import { UserError } from '../errors.ts'
import { ensureKafkaJars, requireCommand } from './jars.ts'
import { brokerDir, KAFKA_VERSION } from './paths.ts'
import { type ClusterMembership, type ExtraListener, renderServerProperties } from './server-properties.ts'

const BROKER_LOG4J = join(dirname(fileURLToPath(import.meta.url)), 'log4j2.properties')

export interface ScramUser {
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
  name: string
  password: string
}

export interface LocalBrokerOptions {
  home: string
  port: number
  /** Interface to bind and advertise; 127.0.0.1 keeps the broker off the network. */
  host?: string
  /** Defaults to `<home>/brokers/<port>/data`, kept between starts. */
  dataDir?: string
  heapMb?: number
  extraListeners?: ExtraListener[]
  extraProperties?: Record<string, string>
  /** Created when storage is formatted (first start of a data dir only). */
  scramUsers?: ScramUser[]
  readyTimeoutMs?: number
  onProgress?: (message: string) => void
  /**
   * One node of a local multi-node cluster (local-cluster.ts): its id, every node's controller
   * port, and the cluster id every node's storage is formatted with.
   */
  cluster?: ClusterMembership & { clusterId: string; controllerPort: number }
}

/** What `broker status` and `broker stop` read back; written next to the broker's config and log. */
export interface BrokerState {
  pid: number
  port: number
  bootstrap: string
  kafkaVersion: string
  dataDir: string
  configFile: string
  logFile: string
  startedAt: string
}

export interface RunningBroker extends BrokerState {
  /** Resolves when the broker process exits: its exit code, or the signal that ended it. */
  exited: Promise<number | NodeJS.Signals | null>
  stop(): Promise<void>
}

export async function startLocalBroker(options: LocalBrokerOptions): Promise<RunningBroker> {
  const progress = options.onProgress ?? (() => {})
  const host = options.host ?? '127.0.0.1'
  const dir = brokerDir(options.home, options.port)
  const dataDir = options.dataDir ?? join(dir, 'data')
  const stateFile = join(dir, 'broker.json')

  const previous = readBrokerState(options.home, options.port)
  if (previous && isBrokerProcess(previous)) {
    throw new UserError(
      `a lagscale broker is already running on port ${options.port} (pid ${previous.pid}); stop it with: lagscale broker stop --port ${options.port}`
    )
  }
  await requireCommand('java', ['-version'], 'Java 17 or newer is needed to run the Kafka broker; install a JDK (java)')
  for (const port of [options.port, ...(options.extraListeners ?? []).map((l) => l.port)]) {
    if (!(await isPortFree(port, host))) {
      throw new UserError(`port ${port} is already in use on ${host}; choose another with --port`)
    }
  }

  const libs = await ensureKafkaJars(options.home, progress)
  const classpath = join(libs, '*')
  mkdirSync(dir, { recursive: true })
  mkdirSync(dataDir, { recursive: true })

  const cluster = options.cluster
  const controllerPort = cluster?.controllerPort ?? (await freePort())
  const configFile = join(dir, 'server.properties')
  writeFileSync(
    configFile,
    renderServerProperties({
      port: options.port,
      controllerPort,
      host,
      dataDir,
      extraListeners: options.extraListeners ?? [],
      extraProperties: options.extraProperties ?? {},
      ...(cluster ? { cluster: { nodeId: cluster.nodeId, controllers: cluster.controllers } } : {})
    })
  )
  const logFile = join(dir, 'broker.log')

  if (!existsSync(join(dataDir, 'meta.properties'))) {
    progress(`Formatting broker storage in ${dataDir}`)
    await formatStorage(classpath, configFile, logFile, options.scramUsers ?? [], cluster?.clusterId)
  }

  const heap = options.heapMb ?? 512
  const logFd = openSync(logFile, 'a')
  const child = spawn(
    'java',
    [
      `-Xmx${heap}m`,
      `-Xms${Math.min(heap, 256)}m`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${BROKER_LOG4J}`,
      `-Dkafka.logs.dir=${dir}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      configFile
    ],
    // Its own process group: Ctrl-C in a terminal reaches us, and we stop the broker cleanly.
    { detached: true, stdio: ['ignore', logFd, logFd] }
  )
  closeSync(logFd)
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal))
  )

  const state: BrokerState = {
    pid: child.pid ?? -1,
    port: options.port,
    bootstrap: `${host === '0.0.0.0' ? 'localhost' : host}:${options.port}`,
    kafkaVersion: KAFKA_VERSION,
    dataDir,
    configFile,
    logFile,
    startedAt: new Date().toISOString()
  }
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`)

  try {
    await waitUntilReady(state.bootstrap, child, exited, options.readyTimeoutMs ?? 90_000)
  } catch (err) {
    await stopProcess(state.pid, child)
    rmSync(stateFile, { force: true })
    const tail = logTail(logFile, 15)
    throw new UserError(`${(err as Error).message}\n--- last lines of ${logFile} ---\n${tail}`)
  }

  return {
    ...state,
    exited,
    stop: async () => {
      await stopProcess(state.pid, child)
      rmSync(stateFile, { force: true })
    }
  }
}

/** Stops the broker recorded for `port`. Returns false when none was running. */
export async function stopLocalBroker(home: string, port: number): Promise<boolean> {
  const state = readBrokerState(home, port)
  const stateFile = join(brokerDir(home, port), 'broker.json')
  if (!state || !isBrokerProcess(state)) {
    rmSync(stateFile, { force: true })
    return false
  }
  await stopProcess(state.pid)
  rmSync(stateFile, { force: true })
  return true
}

export function readBrokerState(home: string, port: number): BrokerState | undefined {
  try {
    return JSON.parse(readFileSync(join(brokerDir(home, port), 'broker.json'), 'utf8')) as BrokerState
  } catch {
    return undefined
  }
}

/** True when `state.pid` is alive and is the broker started with `state.configFile` (pids get reused). */
export function isBrokerProcess(state: BrokerState): boolean {
  try {
    const stat = readFileSync(`/proc/${state.pid}/stat`, 'utf8')
    if (/^\d+ \(.*\) Z/.test(stat)) return false
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8')
    return cmdline.includes(state.configFile)
  } catch {
    return false
  }
}

export function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

async function formatStorage(
  classpath: string,
  configFile: string,
  logFile: string,
  users: ScramUser[],
  clusterId = newClusterId()
): Promise<void> {
  const args = [
    `-Dlog4j2.configurationFile=${BROKER_LOG4J}`,
    '-cp',
    classpath,
    'kafka.tools.StorageTool',
    'format',
    '--ignore-formatted',
    `--cluster-id=${clusterId}`,
    '-c',
    configFile
  ]
  for (const user of users) args.push('--add-scram', `${user.mechanism}=[name=${user.name},password=${user.password}]`)
  const logFd = openSync(logFile, 'a')
  const child = spawn('java', args, { stdio: ['ignore', logFd, logFd] })
  closeSync(logFd)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) {
    throw new UserError(`formatting broker storage failed\n--- last lines of ${logFile} ---\n${logTail(logFile, 10)}`)
  }
}

/**
 * A Kafka cluster id: 16 random bytes in URL-safe base64 without padding (22 chars); like
 * Kafka's Uuid.randomUuid, never one starting with '-', which tools read as a flag.
 */
export function newClusterId(): string {
  let clusterId = randomBytes(16).toString('base64url')
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url')
  return clusterId
}

async function waitUntilReady(
  bootstrap: string,
  child: ChildProcess,
  exited: Promise<number | NodeJS.Signals | null>,
  timeoutMs: number
): Promise<void> {
  let exitCode: number | NodeJS.Signals | null | undefined
  void exited.then((code) => {
    exitCode = code
  })
  const deadline = Date.now() + timeoutMs
  const admin = new Admin({
    clientId: 'lagscale-broker-probe',
    bootstrapBrokers: [bootstrap],
    connectTimeout: 1000,
    requestTimeout: 2000,
    retries: 0
  })
  try {
    while (Date.now() < deadline) {
      if (exitCode !== undefined || child.exitCode !== null) {
        throw new Error(`the Kafka broker exited during start-up (code ${exitCode ?? child.exitCode})`)
      }
      try {
        // "Ready" means it answers a metadata request, not only that the port is open.
        await admin.metadata({ topics: [] })
        return
      } catch {
        await sleep(250)
      }
    }
    throw new Error(`the Kafka broker did not answer a metadata request within ${Math.round(timeoutMs / 1000)} s`)
  } finally {
    await admin.close().catch(() => {})
  }
}

async function stopProcess(pid: number, child?: ChildProcess): Promise<void> {
  const alive = (): boolean => {
    if (child) return child.exitCode === null && child.signalCode === null
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return !/^\d+ \(.*\) Z/.test(stat)
    } catch {
      return false
    }
  }
  if (!alive()) return
  // SIGTERM runs Kafka's shutdown hook: a controlled shutdown that flushes logs.
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + 30_000
  while (alive() && Date.now() < deadline) await sleep(100)
  if (alive()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
    while (alive()) await sleep(50)
  }
}

function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
