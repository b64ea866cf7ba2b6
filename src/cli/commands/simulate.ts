import type { Command } from 'commander'
import { POLICY_NAMES } from '../../autoscaler/policy/index.ts'
import { usageError } from '../../errors.ts'
import { formatSimJson, formatSimText, parseSimOptions, simulate } from '../../sim/index.ts'
import type { CliIo } from '../io.ts'

/** Flag -> simulator option, help. Values go through the simulator's schema (src/sim/options.ts). */
const VALUE_FLAGS: [flag: string, key: string, help: string][] = [
  ['--partitions <n>', 'partitions', 'partitions of the topic (default 1, the seed)'],
  ['--records <n>', 'records', 'records of the burst, random values 0..--value-max (default 100, the seed)'],
  ['--values <list>', 'values', 'the burst as these values instead, comma-separated (e.g. 1,2,3)'],
  ['--value-max <n>', 'valueMax', 'largest random value (default 10: the seed sends 0..10)'],
  ['--burst-at <duration>', 'burstAtMs', 'when the burst is produced (default 0)'],
  ['--rate <records/s>', 'rate', 'a constant load besides the burst, records per second (default 0)'],
  ['--rate-start <duration>', 'rateStartMs', 'when the constant load starts (default 0)'],
  ['--rate-duration <duration>', 'rateDurationMs', 'how long the constant load lasts'],
  ['--work-unit-ms <ms>', 'workUnitMs', 'a record of value v takes v x this (default 1000, the seed)'],
  ['--min <n>', 'min', 'fewest consumers (default 1)'],
  ['--max <n>', 'max', 'most consumers (default 8)'],
  ['--initial-consumers <n>', 'initialConsumers', 'consumers in the group before the first decision (default 0)'],
  ['--policy <name>', 'policy', `${POLICY_NAMES.join(', ')} (default drain)`],
  ['--interval <duration>', 'intervalMs', 'how often the autoscaler decides (default 5s)'],
  ['--scale-out-cooldown <duration>', 'scaleOutCooldownMs', 'pause between scale-outs (default 10s)'],
  ['--scale-in-cooldown <duration>', 'scaleInCooldownMs', 'pause after any change before a scale-in (default 60s)'],
  ['--concurrency <n>', 'concurrency', "the workers' --concurrency (default 1)"],
  ['--ordering <o>', 'ordering', "the workers' --ordering: partition (default), key or unordered"],
  ['--startup-ms <duration>', 'startupMs', 'scale-out to consumer in the group: process start + join (default 1.5s)'],
  [
    '--startup-per-concurrent-ms <duration>',
    'startupPerConcurrentMs',
    'of a start-up, the loading done on shared cores: adds this per other consumer loading at once (default 0)'
  ],
  ['--rebalance-pause-ms <duration>', 'rebalancePauseMs', 'what a membership change stops the group for (default 3s)'],
  ['--assignor <name>', 'assignor', "the group's assignor: roundrobin (default), range, cooperative-sticky"],
  ['--seed <n>', 'seed', 'seed of the random values (default 1): the same seed, the same run'],
  ['--settle <duration>', 'settleMs', 'after the drain, stop this long later if the pool is not back at min (30m)'],
  ['--max-duration <duration>', 'maxDurationMs', 'stop simulated time here (default 24h)']
]

/** Policy options with their own flag, as `lagscale autoscale` names them. */
const POLICY_FLAGS: [flag: string, policy: string, key: string, help: string][] = [
  ['--drain-target <duration>', 'drain', 'drainTargetMs', 'drain policy: drain the backlog within this (default 60s)'],
  ['--lag-threshold <n>', 'keda', 'lagThreshold', 'keda policy: target lag per consumer (default 10)'],
  ['--seed-datapoint <duration>', 'seed', 'datapointMs', 'seed policy: CloudWatch period (default 60s)'],
  ['--ignore-partition-cap', 'seed', 'ignorePartitionCap', 'seed policy: as the seed ran (8 on 1 partition, S23)']
]

/** Option key -> flag, so a bad value names the flag the user typed. */
const FLAG_NAMES: Record<string, string> = Object.fromEntries(
  VALUE_FLAGS.map(([flag, key]) => [key, flag.split(' ')[0]!])
)

const attribute = (flag: string): string =>
  flag
    .split(' ')[0]!
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

interface SimulateFlags {
  policyOption?: string[]
  output?: string
  [key: string]: unknown
}

export function registerSimulateCommand(program: Command, io: CliIo): void {
  const command = program
    .command('simulate')
    .description(
      'predict what a policy does with a load: drain time, consumers over time, cost, decisions (no Kafka needed)'
    )
  for (const [flag, , help] of VALUE_FLAGS) command.option(flag, help)
  for (const [flag, , , help] of POLICY_FLAGS) command.option(flag, help)
  command
    .option(
      '--policy-option <key=value>',
      'any option of the policy, repeatable (e.g. scaleInDatapoints=3, drainTargetMs=2m)',
      (value: string, all: string[] | undefined) => [...(all ?? []), value]
    )
    .option('--output <format>', 'text (default) or json (the whole result)')
    .action((flags: SimulateFlags) => {
      flags.output ??= 'text'
      if (flags.output !== 'text' && flags.output !== 'json') {
        throw usageError(`--output must be text or json; got ${JSON.stringify(flags.output)}`)
      }
      const input = simulateInput(flags)
      const result = simulate(parseSimOptions(input, FLAG_NAMES))
      io.stdout.write(flags.output === 'json' ? formatSimJson(result) : formatSimText(result))
    })
}

/** The flags as simulator options; policy flags must belong to the chosen policy. */
export function simulateInput(flags: SimulateFlags): Record<string, unknown> {
  const input: Record<string, unknown> = {}
  for (const [flag, key] of VALUE_FLAGS) {
    const value = flags[attribute(flag)]
    if (value === undefined) continue
    input[key] = key === 'values' ? String(value).split(',').map(listItem) : value
  }
  const policy = String(input['policy'] ?? 'drain')
  const policyOptions: Record<string, unknown> = {}
  for (const [flag, owner, key] of POLICY_FLAGS) {
    const value = flags[attribute(flag)]
    if (value === undefined) continue
    const name = flag.split(' ')[0]!
    if (owner !== policy) throw usageError(`${name} is a ${owner} policy option; the policy is ${policy}`)
    policyOptions[key] = value
  }
  for (const pair of flags.policyOption ?? []) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw usageError(`--policy-option takes key=value; got ${JSON.stringify(pair)}`)
    policyOptions[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim()
  }
  input['policyOptions'] = policyOptions
  return input
}

function listItem(item: string): string | number {
  const trimmed = item.trim()
  // A non-number stays a string, so the schema names it ("must be a number") instead of a silent NaN.
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed
}
