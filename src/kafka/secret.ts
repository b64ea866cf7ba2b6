import { inspect } from 'node:util'

/**
 * A value that must never reach a log line, an error message or JSON output.
 * Every way of printing it prints `[redacted]`; only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
  }

  reveal(): string {
    return this.#value
  }

  toString(): string {
    return '[redacted]'
  }

  toJSON(): string {
    return '[redacted]'
  }

  [inspect.custom](): string {
    return '[redacted]'
  }
}
