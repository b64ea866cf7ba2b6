import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { SilentExit, UserError } from '../errors.ts'
import { toUserError } from '../kafka/errors.ts'
import { type CliIo, processIo } from './io.ts'

type Register = (program: Command, io: CliIo) => void

/**
 * Each command's module, loaded only when needed: `lagscale consumer` (started many times by
 * the autoscaler's pool) then loads the worker, not the AWS SDK, the dashboard or the broker
 * tooling - measured with bench:scale, that was 20-70% of a worker's start-up.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  broker: async () => (await import('./commands/broker.ts')).registerBrokerCommands,
  topics: async () => (await import('./commands/topics.ts')).registerTopicsCommands,
  produce: async () => (await import('./commands/produce.ts')).registerProduceCommand,
  consume: async () => (await import('./commands/consume.ts')).registerConsumeCommand,
  consumer: async () => (await import('./commands/consumer.ts')).registerConsumerCommand,
  groups: async () => (await import('./commands/groups.ts')).registerGroupsCommands,
  lag: async () => (await import('./commands/lag.ts')).registerLagCommand,
  autoscale: async () => (await import('./commands/autoscale.ts')).registerAutoscaleCommand,
  up: async () => (await import('./commands/up.ts')).registerUpCommand,
  producer: async () => (await import('./commands/producer.ts')).registerProducerCommand,
  simulate: async () => (await import('./commands/simulate.ts')).registerSimulateCommand,
  experiment: async () => (await import('./commands/experiment.ts')).registerExperimentCommand
}

/** The version in package.json (two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

/** The CLI; with `only`, just that command (what `lagscale <command> ...` needs). */
export async function buildProgram(io: CliIo, only?: string): Promise<Command> {
  const program = new Command('lagscale')
    .description('Kafka work queues whose consumers scale on lag, from a laptop to Amazon MSK')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s)
    })
  const names = only !== undefined && only in COMMANDS ? [only] : Object.keys(COMMANDS)
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()))
  for (const register of registers) register(program, io)
  // Sub-commands inherit exit/output handling so bad flags anywhere exit 2 with one line.
  for (const command of allCommands(program)) {
    command.exitOverride().configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s)
    })
  }
  return program
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)])
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can drive it in-process. */
export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  // argv: [node, script, command, ...]; a known command loads only its own module.
  const program = await buildProgram(io, argv[2])
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; they exit 0.
      return err.exitCode === 0 ? 0 : 2
    }
    if (err instanceof SilentExit) return err.exitCode
    const userError = err instanceof UserError ? err : toUserError(err)
    io.stderr.write(`lagscale: ${userError.message}\n`)
    if (io.env['LAGSCALE_DEBUG'] && err instanceof Error) io.stderr.write(`${err.stack}\n`)
    return userError.exitCode
  }
}

export async function main(argv: string[]): Promise<void> {
  // `lagscale consume ... | head` closes our stdout early: stop quietly, as Unix tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  })
  const code = await run(argv)
  // Commands close their clients, but a stray socket or timer must not keep a finished command alive.
  process.exitCode = code
  setImmediate(() => process.exit(code))
}
