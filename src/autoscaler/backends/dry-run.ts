import type { Logger } from '../../log.ts'
import type { BackendStatus, ConsumerHealth, Decision, ReplacementReport, ScalingBackend } from '../types.ts'

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

  /** Says which consumers a replacing backend would stop and start anew; touches none. */
  async replaceUnhealthy(health: ConsumerHealth): Promise<ReplacementReport> {
    const owners = [...new Set(health.stalled.flatMap((s) => s.owner ?? []))]
    const who = [
      ...(health.missing?.clientIds ?? (health.missing ? [`${health.missing.count} missing`] : [])),
      ...owners
    ]
    const note = `dry run: would replace ${who.length > 0 ? who.join(', ') : 'nothing it can name'}`
    this.#logger.info({ event: 'dry-run-replace', consumers: who }, note)
    return { replaced: [], note }
  }

  async close(): Promise<void> {}
}
