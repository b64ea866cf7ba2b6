import type { Command } from 'commander'
import { type AutoscalerConfig, parseAutoscalerConfig, readConfigFile, setPath } from '../../autoscaler/config.ts'
import { createAutoscaler } from '../../autoscaler/index.ts'
import type { ConnectionConfig } from '../../kafka/connection-config.ts'
import { createLogger, type Logger } from '../../log.ts'
import { type ConnectionFlags, connectionFrom, withConnectionOptions } from '../connection-options.ts'
import { type CliIo, writeLine } from '../io.ts'

/** Flag -> config key (dotted for sections), help. Values go through the config schema like a file's. */
const VALUE_FLAGS: [flag: string, key: string, help: string][] = [
  ['--group <id>', 'group', 'consumer group to scale (env GROUP_ID; default group_id)'],
  ['--topic <names>', 'topics', 'topic(s) the group consumes, comma-separated (env TOPIC; default Topic_from_java)'],
  ['--reset-policy <p>', 'resetPolicy', "the consumers' auto.offset.reset: earliest (default) or latest"],
  ['--min <n>', 'min', 'fewest consumers (default 1; 0 allows scale to zero)'],
  ['--max <n>', 'max', 'most consumers (default 8)'],
  ['--policy <name>', 'policy', 'drain (default), keda or seed'],
  ['--backend <name>', 'backend', 'local (process pool), ecs, or dry-run (default)'],
  ['--interval <duration>', 'interval', 'how often to read lag and decide (default 5s; CloudWatch: 60s)'],
  ['--scale-out-cooldown <duration>', 'scaleOutCooldown', 'pause between scale-outs (default 10s)'],
  ['--scale-in-cooldown <duration>', 'scaleInCooldown', 'pause after any change before a scale-in (default 60s)'],
  ['--concurrency <n>', 'concurrency', "the workers' --concurrency: records one consumer works at once (default 1)"],
  ['--ordering <o>', 'ordering', "the workers' --ordering: partition (default), key or unordered"],
  ['--drain-target <duration>', 'drain.drainTargetMs', 'drain policy: drain the backlog within this (default 60s)'],
  ['--record-time <duration>', 'drain.recordTimeMs', 'drain policy: work per record until measured (default 1s)'],
  ['--rebalance-pause <duration>', 'drain.rebalancePauseMs', 'drain policy: cost of one scale step (default 3s)'],
  ['--assignor <name>', 'drain.assignor', "drain policy: the group's assignor (roundrobin, range, cooperative-sticky)"],
  ['--lag-threshold <n>', 'keda.lagThreshold', 'keda policy: target lag per consumer (default 10)'],
  ['--activation-lag-threshold <n>', 'keda.activationLagThreshold', 'keda policy: lag above which it activates'],
  ['--stabilization-window <duration>', 'keda.stabilizationWindowMs', 'keda policy: HPA scale-down window (5m)'],
  ['--seed-datapoint <duration>', 'seed.datapointMs', 'seed policy: CloudWatch period (default 60s)'],
  ['--seed-scale-out-to <n>', 'seed.scaleOutTo', 'seed policy: capacity the out alarm sets (default 8)'],
  ['--seed-scale-in-datapoints <n>', 'seed.scaleInDatapoints', 'seed policy: periods at 0 before scale-in (5)'],
  [
    '--member-grace <duration>',
    'health.memberGrace',
    'a consumer may be out of the group this long (start, join, rebalance) before it counts as missing (45s)'
  ],
  [
    '--stall-window <duration>',
    'health.stallWindow',
    'a partition with lag whose committed offset stands still this long is stalled (60s; > longest record)'
  ],
  ['--kill-after <duration>', 'local.killAfter', 'local backend: SIGKILL a worker this long after SIGTERM'],
  ['--standby <n>', 'local.standby', 'local backend: warm workers kept ready for scale-out (default 1)'],
  ['--ecs-cluster <name>', 'ecs.cluster', 'ecs backend: cluster name or ARN'],
  ['--ecs-service <name>', 'ecs.service', 'ecs backend: service name or ARN'],
  ['--msk-cluster-name <name>', 'cloudwatch.clusterName', 'with --publish-cloudwatch: the "Cluster Name" dimension'],
  ['--cloudwatch-namespace <ns>', 'cloudwatch.namespace', 'with --publish-cloudwatch (default Lagscale/Kafka)'],
  ['--dashboard-port <port>', 'dashboard.port', 'dashboard and /metrics port (default 8090; 0 picks one)'],
  ['--dashboard-host <host>', 'dashboard.host', 'dashboard listen address (default 127.0.0.1)']
]

const BOOLEAN_FLAGS: [flag: string, key: string, help: string][] = [
  ['--allow-idle-consumers', 'keda.allowIdleConsumers', 'keda policy: allow more consumers than partitions'],
  ['--limit-to-partitions-with-lag', 'keda.limitToPartitionsWithLag', 'keda policy: cap at partitions with lag'],
  ['--ignore-partition-cap', 'seed.ignorePartitionCap', 'seed policy: run it as the seed did (8 on 1 partition)']
]

/** commander's attribute for a flag: --drain-target <d> -> drainTarget. */
const attribute = (flag: string): string =>
  flag
    .split(' ')[0]!
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

export interface AutoscaleFlags extends ConnectionFlags {
  config?: string
  workUnitMs?: string
  handler?: string
  awsRegion?: string
  awsEndpoint?: string
  publishCloudwatch?: boolean
  dashboard?: boolean
  /** false with --no-replace. */
  replace?: boolean
  once?: boolean
  [key: string]: unknown
}

/** Defaults < config file < environment (GROUP_ID, TOPIC) < flags; validated once. */
export function resolveAutoscalerConfig(flags: AutoscaleFlags, env: NodeJS.ProcessEnv): AutoscalerConfig {
  const input: Record<string, unknown> = flags.config ? readConfigFile(flags.config) : {}
  if (env['GROUP_ID']?.trim()) setPath(input, 'group', env['GROUP_ID'])
  if (env['TOPIC']?.trim()) setPath(input, 'topics', env['TOPIC'])
  if (input['topics'] === undefined) input['topics'] = ['Topic_from_java']
  // A bad value given by a flag is reported under the flag's name.
  const fromFlags: Record<string, string> = {}
  for (const [flag, key] of VALUE_FLAGS) {
    const value = flags[attribute(flag)]
    if (value === undefined) continue
    setPath(input, key, value)
    fromFlags[key] = flag.split(' ')[0]!
  }
  for (const [flag, key] of BOOLEAN_FLAGS) if (flags[attribute(flag)] === true) setPath(input, key, true)
  if (flags.awsRegion) {
    setPath(input, 'ecs.region', flags.awsRegion)
    if (flags.publishCloudwatch || input['cloudwatch']) setPath(input, 'cloudwatch.region', flags.awsRegion)
  }
  if (flags.awsEndpoint) {
    if (input['ecs']) setPath(input, 'ecs.endpoint', flags.awsEndpoint)
    if (flags.publishCloudwatch || input['cloudwatch']) setPath(input, 'cloudwatch.endpoint', flags.awsEndpoint)
  }
  if (flags.publishCloudwatch && !input['cloudwatch']) setPath(input, 'cloudwatch', {})
  if (flags.dashboard === false) setPath(input, 'dashboard.enabled', false)
  if (flags.replace === false) setPath(input, 'health.replace', false)
  const extra: string[] = []
  if (flags.workUnitMs !== undefined) extra.push('--work-unit-ms', flags.workUnitMs)
  if (flags.handler !== undefined) extra.push('--handler', flags.handler)
  if (extra.length > 0) {
    const local = (input['local'] ?? {}) as { consumerArgs?: unknown }
    setPath(input, 'local.consumerArgs', [...(Array.isArray(local.consumerArgs) ? local.consumerArgs : []), ...extra])
  }
  return parseAutoscalerConfig(input, flags.config ? `config (${flags.config} and flags)` : 'config', fromFlags)
}

/**
 * Resolves at the first SIGINT/SIGTERM. Listening starts at once - before anything slow -
 * because a signal with no listener kills the process outright, skipping the graceful stop.
 */
export function untilSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      log.info({ event: 'signal', signal }, `${signal} received: stopping`)
      resolve(signal)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** The autoscaler's flags (shared by `autoscale` and `up`). */
export function withAutoscalerOptions(command: Command, options: { backendFlags: boolean }): Command {
  command.option('--config <file>', 'YAML or JSON file with any of the settings below (flags win)')
  for (const [flag, , help] of VALUE_FLAGS) {
    if (!options.backendFlags && /^--(backend|ecs-|msk-|cloudwatch-)/.test(flag)) continue
    command.option(flag, help)
  }
  for (const [flag, , help] of BOOLEAN_FLAGS) command.option(flag, help)
  command
    .option('--work-unit-ms <ms>', 'each `lagscale consumer` sleeps value x this per record (default 1000, the seed)')
    .option('--handler <module>', 'each `lagscale consumer` runs this handler module instead of the seed sleep')
    .option('--no-dashboard', 'no dashboard or /metrics server')
    .option('--no-replace', 'report consumers missing from the group or stalled, but do not replace them')
  if (options.backendFlags) {
    command
      .option('--aws-region <region>', 'ecs backend / CloudWatch: AWS region (default: the SDK chain)')
      .option('--aws-endpoint <url>', 'ecs backend / CloudWatch: endpoint override (e.g. a local emulator)')
      .option('--publish-cloudwatch', "put SumOffsetLag, MaxOffsetLag, EstimatedMaxTimeLag with MSK's dimensions")
  }
  return command
}

export function registerAutoscaleCommand(program: Command, io: CliIo): void {
  const command = withAutoscalerOptions(
    withConnectionOptions(
      program
        .command('autoscale')
        .description('scale a consumer group on lag: observe, decide (with a reason), act; live dashboard')
    ),
    { backendFlags: true }
  ).option('--once', 'take one decision against the running group, print it, change nothing, exit')
  command.action(async (flags: AutoscaleFlags) => {
    const config = resolveAutoscalerConfig(flags, io.env)
    const connection = connectionFrom(flags, io, 'lagscale-autoscaler')
    const log = createLogger({ name: 'lagscale-autoscaler' })
    if (flags.once) {
      await decideOnce(config, connection, flags, io)
      return
    }
    const signal = untilSignal(log)
    const scaler = await createAutoscaler({
      connection,
      config,
      logger: log,
      ...(flags.commandConfig ? { commandConfigPath: flags.commandConfig } : {})
    })
    log.info(
      { event: 'autoscaler-started', dashboard: scaler.dashboardUrl },
      `autoscaling group ${config.group} on ${config.topics.join(', ')}: policy ${config.policy}, backend ${config.backend}, ` +
        `${config.min}..${config.max} consumers${scaler.dashboardUrl ? `; dashboard ${scaler.dashboardUrl}` : ''}`
    )
    await signal
    await scaler.close()
  })
}

async function decideOnce(
  config: AutoscalerConfig,
  connection: ConnectionConfig,
  flags: AutoscaleFlags,
  io: CliIo
): Promise<void> {
  // One decision against what runs now (the group's members), changing nothing.
  const scaler = await createAutoscaler({
    connection,
    config: { ...config, backend: 'dry-run', dashboard: { enabled: false } },
    logger: createLogger({ name: 'lagscale-autoscaler', level: 'warn' }),
    ...(flags.commandConfig ? { commandConfigPath: flags.commandConfig } : {})
  })
  try {
    const decision = scaler.loop.decisions.at(-1)
    const observation = scaler.loop.history.at(-1)
    if (!decision || !observation) throw new Error('no decision was taken')
    writeLine(
      io.stdout,
      `${decision.action} ${decision.from} -> ${decision.desired} (${config.policy}, SumOffsetLag ${observation.sumOffsetLag}): ${decision.reason}`
    )
  } finally {
    await scaler.close()
  }
}
