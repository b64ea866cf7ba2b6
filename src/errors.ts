/**
 * An error the user caused or can fix (bad flag, bad file, unreachable broker).
 * The CLI prints its message as one line on stderr and exits with `exitCode`;
 * it never prints a stack trace for it.
 */
export class UserError extends Error {
  readonly exitCode: number

  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options)
    this.name = 'UserError'
    this.exitCode = exitCode
  }
}

/** Exit code for invalid usage or configuration, as Kafka's tools and most CLIs use. */
export const EXIT_USAGE = 2

export function usageError(message: string): UserError {
  return new UserError(message, EXIT_USAGE)
}

/** Ends a command with a non-zero exit code after it has already said what it had to say. */
export class SilentExit extends Error {
  readonly exitCode: number

  constructor(exitCode: number) {
    super(`exit ${exitCode}`)
    this.exitCode = exitCode
  }
}
