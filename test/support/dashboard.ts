/**
 * What the dashboard's tests feed it: a fake DashboardSource and hand-built snapshots. The
 * dashboard only presents snapshots, so no autoscaler (and no Kafka) is needed.
 */
import type { AutoscalerSnapshot, Observation } from '../../src/autoscaler/types.ts'
import type { DashboardSource } from '../../src/dashboard/index.ts'

/** Holds the newest snapshot and tells the subscribers about each new one, as the autoscaler does. */
export class FakeDashboardSource implements DashboardSource {
  #latest: AutoscalerSnapshot | undefined
  readonly listeners = new Set<(s: AutoscalerSnapshot) => void>()

  snapshot(): AutoscalerSnapshot | undefined {
    return this.#latest
  }

  subscribe(listener: (s: AutoscalerSnapshot) => void): () => void {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }

  push(s: AutoscalerSnapshot): void {
    this.#latest = s
    for (const l of [...this.listeners]) l(s)
  }
}

/**
 * The snapshot a drain-time autoscaler with a local backend (1 to 8 consumers, one running)
 * publishes after taking `observation`; `fields` override any of that.
 */
export const dashboardSnapshot = (
  observation: Observation,
  fields: Partial<AutoscalerSnapshot> = {}
): AutoscalerSnapshot => ({
  at: observation.at,
  group: observation.group,
  topics: observation.topics,
  policy: 'drain-time',
  backend: 'local',
  limits: { min: 1, max: 8, scaleOutCooldownMs: 30_000, scaleInCooldownMs: 120_000, parallelismPerPartition: 1 },
  intervalMs: 5000,
  observation,
  status: { desired: 1, running: 1 },
  decisions: [],
  ...fields
})
