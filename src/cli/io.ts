import type { Writable } from 'node:stream'

/** Where a command writes: injectable so commands can be driven in-process. */
export interface CliIo {
  stdout: Writable
  stderr: Writable
  stdin: NodeJS.ReadableStream
  env: NodeJS.ProcessEnv
}

export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env
}

export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${text}\n`)
}
