import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { SilentExit, UserError } from '../errors.ts'
import { toUserError } from '../kafka/errors.ts'
import { registerAutoscaleCommand } from './commands/autoscale.ts'
import { registerBrokerCommands } from './commands/broker.ts'
import { registerConsumeCommand } from './commands/consume.ts'
import { registerConsumerCommand } from './commands/consumer.ts'
import { registerGroupsCommands } from './commands/groups.ts'
import { registerLagCommand } from './commands/lag.ts'
import { registerProduceCommand } from './commands/produce.ts'
import { registerProducerCommand } from './commands/producer.ts'
import { registerSimulateCommand } from './commands/simulate.ts'
import { registerTopicsCommands } from './commands/topics.ts'
import { registerUpCommand } from './commands/up.ts'
import { type CliIo, processIo } from './io.ts'

/** The version in package.json (two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('lagscale')
    .description('Kafka work queues whose consumers scale on lag, from a laptop to Amazon MSK')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s)
    })
  registerBrokerCommands(program, io)
  registerTopicsCommands(program, io)
  registerProduceCommand(program, io)
  registerConsumeCommand(program, io)
  registerConsumerCommand(program, io)
  registerGroupsCommands(program, io)
  registerLagCommand(program, io)
  registerAutoscaleCommand(program, io)
  registerUpCommand(program, io)
  registerProducerCommand(program, io)
  registerSimulateCommand(program, io)
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
  const program = buildProgram(io)
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
