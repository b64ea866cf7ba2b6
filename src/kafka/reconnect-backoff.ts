/**
 * The delay before a consumer joins the group again after the cluster went away (the worker's
 * rejoin, the console consumer's reconnect): quick first, doubling up to a short cap, with
 * +-20 % jitter so a pool of workers does not reconnect in step. The cap is short because a
 * consumer must be back within seconds of the cluster (Java's reconnect.backoff.max.ms is 1 s;
 * a join costs more than a connection, so attempts are spaced a little wider).
 */
export class ReconnectBackoff {
  static readonly FIRST_MS = 500
  static readonly MAX_MS = 5000
  #next = ReconnectBackoff.FIRST_MS

  /** The delay to wait now; the one after it doubles. */
  next(): number {
    const base = this.#next
    this.#next = Math.min(base * 2, ReconnectBackoff.MAX_MS)
    return Math.round(base * (0.8 + Math.random() * 0.4))
  }

  /** Back in: the next outage starts from the first delay again. */
  reset(): void {
    this.#next = ReconnectBackoff.FIRST_MS
  }
}
