import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { BackendStatus, ConsumerHealth, Decision, Observation, ReplacementReport } from './types.ts'

/** The autoscaler's numbers for Prometheus: the same ones the dashboard shows. */
export class AutoscalerMetrics {
  readonly registry = new Registry()
  readonly #sumLag: Gauge
  readonly #maxLag: Gauge
  readonly #maxTimeLag: Gauge
  readonly #partitionLag: Gauge<'topic' | 'partition'>
  readonly #partitionTimeLag: Gauge<'topic' | 'partition'>
  readonly #desired: Gauge
  readonly #running: Gauge
  readonly #members: Gauge
  readonly #stale: Gauge
  readonly #decisions: Counter<'action'>
  readonly #missing: Gauge
  readonly #stalled: Gauge
  readonly #replaced: Counter
  #labelled = new Set<string>()

  constructor(labels: { group: string }) {
    const registers = [this.registry]
    this.registry.setDefaultLabels({ group: labels.group })
    collectDefaultMetrics({ register: this.registry })
    this.#sumLag = new Gauge({ name: 'lagscale_sum_offset_lag', help: "MSK's SumOffsetLag", registers })
    this.#maxLag = new Gauge({ name: 'lagscale_max_offset_lag', help: "MSK's MaxOffsetLag", registers })
    this.#maxTimeLag = new Gauge({
      name: 'lagscale_max_time_lag_seconds',
      help: 'Age of the oldest unconsumed record (like MSK EstimatedMaxTimeLag)',
      registers
    })
    this.#partitionLag = new Gauge({
      name: 'lagscale_partition_lag',
      help: 'Records not yet consumed, per partition',
      labelNames: ['topic', 'partition'],
      registers
    })
    this.#partitionTimeLag = new Gauge({
      name: 'lagscale_partition_time_lag_seconds',
      help: 'Age of the oldest unconsumed record, per partition',
      labelNames: ['topic', 'partition'],
      registers
    })
    this.#desired = new Gauge({ name: 'lagscale_desired_consumers', help: 'Consumers asked for', registers })
    this.#running = new Gauge({ name: 'lagscale_running_consumers', help: 'Consumers running', registers })
    this.#members = new Gauge({ name: 'lagscale_group_members', help: 'Members of the consumer group', registers })
    this.#stale = new Gauge({
      name: 'lagscale_observation_stale',
      help: '1 while Kafka cannot be read (decisions hold)',
      registers
    })
    this.#missing = new Gauge({
      name: 'lagscale_consumers_missing',
      help: 'Consumers the backend runs that have been out of the group for longer than the grace',
      registers
    })
    this.#stalled = new Gauge({
      name: 'lagscale_stalled_partitions',
      help: 'Partitions with lag whose committed offset has not moved for the stall window',
      registers
    })
    this.#replaced = new Counter({
      name: 'lagscale_consumer_replacements_total',
      help: 'Consumers the backend stopped and started anew because they were missing from the group or stalled',
      registers
    })
    this.#decisions = new Counter({
      name: 'lagscale_scaling_decisions_total',
      help: 'Decisions that changed the consumer count, by action',
      labelNames: ['action'],
      registers
    })
  }

  observe(o: Observation): void {
    this.#stale.set(o.stale ? 1 : 0)
    if (o.stale) return
    this.#sumLag.set(o.sumOffsetLag)
    this.#maxLag.set(o.maxOffsetLag)
    this.#maxTimeLag.set(o.maxTimeLagMs / 1000)
    this.#members.set(o.members.length)
    const seen = new Set<string>()
    for (const p of o.partitions) {
      const labels = { topic: p.topic, partition: String(p.partition) }
      seen.add(JSON.stringify(labels))
      this.#partitionLag.set(labels, p.lag)
      this.#partitionTimeLag.set(labels, p.timeLagMs / 1000)
    }
    // Partitions of a topic no longer watched disappear instead of freezing at their last value.
    for (const key of this.#labelled) {
      if (seen.has(key)) continue
      const labels = JSON.parse(key) as { topic: string; partition: string }
      this.#partitionLag.remove(labels)
      this.#partitionTimeLag.remove(labels)
    }
    this.#labelled = seen
  }

  status(s: BackendStatus): void {
    this.#desired.set(s.desired)
    this.#running.set(s.running)
  }

  /** No verdict (stale data, a rebalance under way) keeps the last values, as the lag gauges do on stale data. */
  health(h: ConsumerHealth, replacement: ReplacementReport | undefined): void {
    if (replacement) this.#replaced.inc(replacement.replaced.length)
    if (h.pending !== undefined) return
    this.#missing.set(h.missing?.count ?? 0)
    this.#stalled.set(h.stalled.length)
  }

  decided(d: Decision): void {
    if (d.action !== 'hold') this.#decisions.inc({ action: d.action })
  }
}
