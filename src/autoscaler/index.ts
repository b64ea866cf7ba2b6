/**
 * The autoscaler's programmatic API (the `lagscale autoscale` command is a thin shell around it):
 *
 *   const scaler = await createAutoscaler({ connection, config: { topics: ['Topic_from_java'], backend: 'local' } })
 *   scaler.loop.on('snapshot', (s) => console.log(s.decisions.at(-1)?.reason))
 *   await scaler.close()
 */
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { registerDashboard } from '../dashboard/index.ts'
import { UserError, usageError } from '../errors.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'
import { createLogger, type Logger } from '../log.ts'
import { Autoscaler } from './autoscaler.ts'
import { DryRunBackend } from './backends/dry-run.ts'
import { createEcsBackend } from './backends/ecs.ts'
import { createLocalPool, type PoolWorkerInfo } from './backends/local.ts'
import { createCloudWatchPublisher } from './cloudwatch.ts'
import { type AutoscalerConfig, type AutoscalerConfigInput, parseAutoscalerConfig } from './config.ts'
import { createLagMonitor, type LagMonitor } from './monitor.ts'
import { createPolicy } from './policy/index.ts'
import type { Observation, ScalingBackend, ScalingLimits } from './types.ts'

export interface CreateAutoscalerOptions {
  connection: ConnectionConfig
  /** Validated here (defaults filled in); an already parsed config is accepted as well. */
  config: AutoscalerConfigInput
  logger?: Logger
  /** Replaces the configured backend (embedding, tests). */
  backend?: ScalingBackend
  /** Local backend: the `--command-config` file the workers should read (connection secrets stay in it). */
  commandConfigPath?: string
  /** Local backend: every line a worker prints. */
  onWorkerOutput?: (worker: PoolWorkerInfo, line: string) => void
  /** Local backend: environment of the workers. */
  workerEnv?: NodeJS.ProcessEnv
}

export interface RunningAutoscaler {
  config: AutoscalerConfig
  loop: Autoscaler
  backend: ScalingBackend
  monitor: LagMonitor
  /** http://host:port/ of the dashboard (and /metrics), when enabled. */
  dashboardUrl: string | undefined
  /** Stops deciding, closes the dashboard, then the backend (a local pool stops its workers gracefully). */
  close(): Promise<void>
}

/** Builds monitor, policy, backend, loop and dashboard from one validated config, and starts them. */
export async function createAutoscaler(options: CreateAutoscalerOptions): Promise<RunningAutoscaler> {
  const config = parseAutoscalerConfig(options.config)
  const log = options.logger ?? createLogger({ name: 'lagscale-autoscaler' })
  const limits: ScalingLimits = {
    min: config.min,
    max: config.max,
    scaleOutCooldownMs: config.scaleOutCooldown,
    scaleInCooldownMs: config.scaleInCooldown,
    // Recomputed by the loop on every observation (key ordering depends on the backlog's keys).
    parallelismPerPartition: 1,
    concurrencyPerConsumer: config.concurrency
  }
  const monitor = createLagMonitor(options.connection, {
    group: config.group,
    topics: config.topics,
    resetPolicy: config.resetPolicy,
    timeoutMs: Math.max(3000, Math.min(config.interval * 2, 30_000)),
    timeLag: true
  })
  const backend = options.backend ?? buildBackend(config, options, log, monitor)
  const publisher = config.cloudwatch
    ? createCloudWatchPublisher({
        clusterName: config.cloudwatch.clusterName,
        ...(config.cloudwatch.namespace ? { namespace: config.cloudwatch.namespace } : {}),
        ...(config.cloudwatch.region ? { region: config.cloudwatch.region } : {}),
        ...(config.cloudwatch.endpoint ? { endpoint: config.cloudwatch.endpoint } : {}),
        logger: log
      })
    : undefined
  const loop = new Autoscaler({
    monitor,
    policy: createPolicy(config.policy, config[config.policy]),
    policyName: config.policy,
    backend,
    limits,
    worker: { concurrency: config.concurrency, ordering: config.ordering },
    intervalMs: config.interval,
    logger: log,
    health: { memberGraceMs: config.health.memberGrace, stallWindowMs: config.health.stallWindow },
    replaceUnhealthy: config.health.replace,
    ...(publisher ? { publish: async (o: Observation) => void (await publisher.publish(o)) } : {})
  })

  let app: FastifyInstance | undefined
  let dashboardUrl: string | undefined
  if (config.dashboard.enabled) {
    app = Fastify({
      // Request logs of a page polling every few seconds would drown the decisions.
      loggerInstance: log.child({ component: 'dashboard' }, { level: 'warn' }) as FastifyBaseLogger
    })
    registerDashboard(app, loop, { registry: loop.metrics.registry })
    try {
      await app.listen({ port: config.dashboard.port, host: config.dashboard.host })
    } catch (err) {
      await Promise.allSettled([monitor.close(), backend.close()])
      const code = (err as NodeJS.ErrnoException).code
      throw new UserError(
        code === 'EADDRINUSE'
          ? `dashboard port ${config.dashboard.port} is already in use (choose another with --dashboard-port)`
          : `cannot start the dashboard: ${(err as Error).message}`
      )
    }
    const address = app.server.address() as AddressInfo
    const host = config.dashboard.host === '0.0.0.0' ? '127.0.0.1' : config.dashboard.host
    dashboardUrl = `http://${host}:${address.port}/`
  }

  await loop.start()
  let closing: Promise<void> | undefined
  return {
    config,
    loop,
    backend,
    monitor,
    dashboardUrl,
    close: () => {
      closing ??= (async () => {
        await loop.stop()
        await app?.close()
        await backend.close()
        await publisher?.close()
        await monitor.close()
      })()
      return closing
    }
  }
}

function buildBackend(
  config: AutoscalerConfig,
  options: CreateAutoscalerOptions,
  log: Logger,
  monitor: LagMonitor
): ScalingBackend {
  switch (config.backend) {
    case 'local': {
      if (config.topics.length !== 1) {
        throw usageError(
          'the local backend runs `lagscale consumer`, which consumes one topic: give exactly one --topic'
        )
      }
      const args = [
        '--bootstrap-server',
        options.connection.bootstrapServers.join(','),
        ...(options.commandConfigPath ? ['--command-config', options.commandConfigPath] : []),
        '--topic',
        config.topics[0]!,
        '--group',
        config.group,
        // Each worker picks a free HTTP port; the pool reads it from the worker's start log.
        '--port',
        '0',
        '--concurrency',
        String(config.concurrency),
        '--ordering',
        config.ordering,
        ...config.local.consumerArgs
      ]
      return createLocalPool({
        consumerArgs: args,
        logger: log.child({ component: 'pool' }),
        killAfterMs: config.local.killAfter,
        standby: config.local.standby,
        ...(options.workerEnv ? { env: options.workerEnv } : {}),
        ...(options.onWorkerOutput ? { onOutput: options.onWorkerOutput } : {})
      })
    }
    case 'ecs': {
      const ecs = config.ecs!
      return createEcsBackend({
        cluster: ecs.cluster,
        service: ecs.service,
        min: config.min,
        max: config.max,
        logger: log,
        ...(ecs.region ? { region: ecs.region } : {}),
        ...(ecs.endpoint ? { endpoint: ecs.endpoint } : {})
      })
    }
    default:
      return new DryRunBackend({ logger: log, running: () => monitor.last?.members.length ?? 0 })
  }
}

export { Autoscaler } from './autoscaler.ts'
export { DryRunBackend } from './backends/dry-run.ts'
export { createEcsBackend } from './backends/ecs.ts'
export { createLocalPool, LocalPoolBackend, type PoolWorkerInfo } from './backends/local.ts'
export { createCloudWatchPublisher } from './cloudwatch.ts'
export { type AutoscalerConfig, type AutoscalerConfigInput, parseAutoscalerConfig } from './config.ts'
export { assessHealth, HEALTH_DEFAULTS, type HealthOptions } from './health.ts'
export { createLagMonitor, LagMonitor } from './monitor.ts'
export { createPolicy } from './policy/index.ts'
export type * from './types.ts'
