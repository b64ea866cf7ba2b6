import type { AutoscalerSnapshot } from '../autoscaler/types.ts'

/** The newest snapshots, oldest first, at most `limit` of them: what a freshly opened page draws its charts from. */
export class SnapshotHistory {
  readonly limit: number
  readonly #items: AutoscalerSnapshot[] = []

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`historyLimit must be a whole number >= 1; got ${limit}`)
    this.limit = limit
  }

  get size(): number {
    return this.#items.length
  }

  /** Keeps `snapshot` unless it is not newer than the last one kept (the same snapshot delivered twice). */
  push(snapshot: AutoscalerSnapshot): boolean {
    const last = this.#items.at(-1)
    if (last !== undefined && (last === snapshot || snapshot.at <= last.at)) return false
    this.#items.push(snapshot)
    if (this.#items.length > this.limit) this.#items.splice(0, this.#items.length - this.limit)
    return true
  }

  /** Oldest first: the last `count` snapshots (all by default), or those taken after `since` (epoch ms). */
  list(options: { since?: number; count?: number } = {}): AutoscalerSnapshot[] {
    let items = this.#items
    if (options.since !== undefined) {
      const since = options.since
      const first = items.findIndex((s) => s.at > since)
      items = first === -1 ? [] : items.slice(first)
    }
    if (options.count !== undefined) items = options.count <= 0 ? [] : items.slice(-options.count)
    return items === this.#items ? [...items] : items
  }
}
