import type { Logger } from '../../log.ts'
import type { BackendStatus, Decision, ScalingBackend } from '../types.ts'

/**
 * The `dry-run` backend: logs each change a policy asks for and changes nothing. The
 * consumer count it reports is what the group has (members), so decisions start from
 * what really runs.
 */
export class DryRunBackend implements ScalingBackend {
  readonly name = 'dry-run'
  readonly #logger: Logger
  readonly #running: () => number
  #desired: number | undefined

  constructor(options: { logger: Logger; running: () => number }) {
    this.#logger = options.logger
    this.#running = options.running
  }

  async status(): Promise<BackendStatus> {
    const running = this.#running()
    return { desired: this.#desired ?? running, running }
  }

  async scaleTo(desired: number, decision: Decision): Promise<void> {
    this.#desired = desired
    this.#logger.info(
      { event: 'dry-run', from: decision.from, desired },
      `dry run: would scale ${decision.from} -> ${desired}`
    )
  }

  async close(): Promise<void> {}
}
