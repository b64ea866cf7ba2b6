/**
 * The calibration, once per experiment: what a scale-out costs on this machine and broker, for
 * the simulator's start-up and rebalancePauseMs. A local pool of `lagscale consumer` workers
 * (the autoscaler's local backend) on a topic with one partition per worker, one worker kept
 * busy by a backlog of 1-unit records:
 *
 *   0. a warm-up round of 1 and 2 below, not measured: the broker's JIT and this process's own
 *      warm up on it, as they are by the time the cases run (a cold round measured 10-30 % slower);
 *   1. the pool goes 1 -> 2: spawn -> the new worker's first assignment (one start alone);
 *   2. the pool goes 1 -> N at once (as a policy's scale-out does): spawn -> every new worker's
 *      assignment, and the working member's stall (the longest gap between two of its records
 *      around the rebalance); then back to 1: SIGTERM -> exit of the stopped workers;
 *   1 and 2 three times (medians), so that one slow spawn does not stand for the machine.
 *
 * The simulator's new consumers join at their start-up and the group then stops for
 * rebalancePauseMs before the new assignment applies; so rebalancePauseMs is the working
 * member's stall, and each start-up is the rest of the time from the scale-out to the (median)
 * new worker's first assignment: the measure a case's start-up column uses.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createLocalPool, type LocalPoolBackend } from '../autoscaler/backends/local.ts'
import { createAdmin, createProducer } from '../kafka/clients.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'
import { createTopic, deleteTopic } from '../kafka/topics.ts'
import { CaseRecorder, type WorkerEvent } from './recorder.ts'
import { waitUntil, workerArgs, workerEnv } from './run-case.ts'
import { median } from './stats.ts'
import type { Calibration } from './types.ts'

export interface CalibrateOptions {
  connection: ConnectionConfig
  commandConfigPath?: string
  workUnitMs: number
  /** Workers after the scale-out (and partitions of the calibration topic); default 8. */
  workers?: number
  /** Scale-outs to measure (the medians count); default 3. */
  rounds?: number
  topicPrefix?: string
  onProgress?: (status: string) => void
  signal?: AbortSignal
}

export interface CalibrationRun {
  calibration: Calibration
  /** The working member's gap between records in steady work before a scale-out (its normal gap; median). */
  normalGapMs: number
  /** The working member's longest gap around a scale-out, normal gap included (median of the rounds). */
  stallMs: number
  /** Scale-out -> the last new worker's assignment (median of the rounds). */
  scaleOutMs: number
}

export async function calibrate(options: CalibrateOptions): Promise<CalibrationRun> {
  const n = options.workers ?? 8
  const progress = options.onProgress ?? (() => {})
  const suffix = Date.now().toString(36)
  const topic = `${options.topicPrefix ?? 'lagscale-experiment'}-calibrate-${suffix}`
  const group = `${topic}-group`
  const admin = createAdmin(options.connection)
  const recorder = new CaseRecorder()
  let pool: LocalPoolBackend | undefined
  try {
    await createTopic(admin, { topic, partitions: n, replicationFactor: 1 })
    pool = createLocalPool({
      consumerArgs: [
        ...workerArgs(options.connection, options.commandConfigPath, topic, group, 1, 'partition'),
        ...['--work-unit-ms', String(options.workUnitMs)]
      ],
      logger: recorder.logger,
      onOutput: recorder.onWorkerOutput,
      env: workerEnv(),
      killAfterMs: 30_000
    })
    const wait = <T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000) =>
      waitUntil(what, probe, { timeoutMs, recorder, ...(options.signal ? { signal: options.signal } : {}) })

    // The pool's first worker, into an empty group.
    progress('calibration: one worker joins an empty group')
    await pool.scaleTo(1)
    const first = await wait('the first worker to get every partition', () =>
      recorder.events('assigned').find((e) => e.partitions?.length === n)
    )

    // A backlog keeps it busy through every round.
    const rounds = options.rounds ?? 3
    const records = Math.max(20 * n, Math.ceil(((rounds + 1) * 50_000) / Math.max(1, options.workUnitMs)))
    const producer = createProducer(options.connection)
    try {
      const messages = Array.from({ length: records }, (_, i) => ({
        topic,
        partition: i % n,
        value: Buffer.from('1')
      }))
      await producer.send({ messages })
    } finally {
      await producer.close().catch(() => {})
    }

    /** The first worker alone again, with every partition, and working; when it got them. */
    const aloneAndWorking = async () => {
      const alone = await wait('the first worker to own every partition again', () => {
        const mine = recorder.events('assigned', first.worker).at(-1)
        return mine?.partitions?.length === n && mine
      })
      await wait(
        'the worker to work',
        () => recorder.events('END', first.worker).filter((e) => e.t > alone.t).length >= 10
      )
      await sleep(Math.max(500, 10 * options.workUnitMs))
      return alone
    }
    /** Each new worker's spawn -> its first assignment with partitions after `from` (a case's start-up column). */
    const firstAssignedMs = (workers: readonly string[], from: number) =>
      workers.map((worker) => {
        const line = recorder.events('assigned', worker).find((e) => e.t >= from && (e.partitions?.length ?? 0) > 0)
        if (!line) throw new Error(`calibration: ${worker} got no partition`)
        return line.t - line.spawnedAt
      })
    /** Back to 1: SIGTERM -> exit of each stopped worker (it finishes its record first). */
    const backToOne = async (from: number) => {
      const stopAt = Date.now()
      const before = recorder.events('stopped').length
      await pool!.scaleTo(1)
      await wait(`${from - 1} workers to stop`, () => recorder.events('stopped').length >= before + from - 1, 60_000)
      return recorder
        .events('stopped')
        .slice(before)
        .map((e) => e.t - stopAt)
    }

    const perRound: {
      singleStartMs: number
      scaleOutMs: number
      stallMs: number
      normalGapMs: number
      joinMs: number[]
      firstAssignedMs: number[]
      spans: number[]
    }[] = []
    const stopped: number[] = []
    // Round 0 warms up (not measured); then `rounds` rounds (medians: one slow spawn is not the machine).
    for (let round = 0; round <= rounds; round++) {
      const of = round === 0 ? 'warm-up, not measured' : `${round} of ${rounds}`

      // 1. One worker starts alone: 1 -> 2.
      await aloneAndWorking()
      progress(`calibration: scale-out 1 -> 2 under load (${of})`)
      const pairAt = Date.now()
      await pool.scaleTo(2)
      const second = await wait('the second worker to get partitions', () =>
        recorder
          .events('assigned')
          .find((e) => e.t >= pairAt && e.worker !== first.worker && (e.partitions?.length ?? 0) > 0)
      )
      const singleStartMs = second.t - second.spawnedAt
      const stoppedPair = await backToOne(2)

      // 2. 1 -> n at once.
      const alone = await aloneAndWorking()
      progress(`calibration: scale-out 1 -> ${n} under load (${of})`)
      const scaledAt = Date.now()
      await pool.scaleTo(n)
      const final = await wait(
        `${n} workers in one generation`,
        () => {
          const byGeneration = new Map<number, Set<string>>()
          for (const e of recorder.events('assigned')) {
            if (e.t < scaledAt || e.generationId === undefined) continue
            const set = byGeneration.get(e.generationId) ?? new Set<string>()
            set.add(e.worker)
            byGeneration.set(e.generationId, set)
          }
          for (const [generation, set] of byGeneration) if (set.size === n) return generation
          return undefined
        },
        90_000
      )
      // Let the working member run on for a moment so its first record after the rebalance shows.
      await sleep(Math.max(1000, 20 * options.workUnitMs))
      const finalLines = recorder.events('assigned').filter((e) => e.generationId === final)
      const lastAssigned = Math.max(...finalLines.map((e) => e.t))
      const starts = recorder.events('START', first.worker).map((e) => e.t)
      const normalGapMs = median(gaps(starts.filter((t) => t > alone.t && t < scaledAt))) ?? options.workUnitMs
      const around = gaps(starts.filter((t) => t >= scaledAt - 2 * options.workUnitMs && t <= lastAssigned + 5000))
      const newWorkers = finalLines.filter((e) => e.worker !== first.worker)
      const measured = {
        singleStartMs,
        scaleOutMs: lastAssigned - scaledAt,
        stallMs: Math.max(normalGapMs, ...around),
        normalGapMs,
        joinMs: newWorkers.map((e) => e.t - e.spawnedAt),
        firstAssignedMs: firstAssignedMs(
          newWorkers.map((e) => e.worker),
          scaledAt
        ),
        spans: generationSpans(recorder.workers, scaledAt)
      }
      progress(`calibration: scale-in ${n} -> 1 (${of})`)
      const stoppedMany = await backToOne(n)
      if (round === 0) continue
      perRound.push(measured)
      stopped.push(...stoppedPair, ...stoppedMany)
    }
    const scaleOutMs = median(perRound.map((r) => r.scaleOutMs))!
    const normalGapMs = median(perRound.map((r) => r.normalGapMs))!
    const stallMs = median(perRound.map((r) => r.stallMs))!
    const rebalancePauseMs = Math.max(0, Math.min(scaleOutMs, stallMs - normalGapMs))

    // The simulator's new consumers all join at one start-up: the median new worker's first
    // assignment, not the last one's (those that join early start work early).
    const manyAssignedMs = median(perRound.flatMap((r) => r.firstAssignedMs)) ?? scaleOutMs
    const calibration: Calibration = {
      startupMs: Math.round(Math.max(0, manyAssignedMs - rebalancePauseMs)),
      rebalancePauseMs: Math.round(rebalancePauseMs),
      singleStartMs: median(perRound.map((r) => r.singleStartMs))!,
      scaleOutMs: perRound.map((r) => r.scaleOutMs),
      scaleOutJoinMs: perRound.flatMap((r) => r.joinMs),
      rebalanceMs: perRound.flatMap((r) => r.spans),
      stopMs: median(stopped) ?? 0,
      workers: n,
      measuredAt: new Date().toISOString()
    }
    return { calibration, normalGapMs, stallMs, scaleOutMs }
  } finally {
    await pool?.close().catch(() => {})
    await deleteTopic(admin, topic).catch(() => {})
    await admin.close().catch(() => {})
  }
}

/** Per generation that got its first assignment after `from`: first 'rebalance' line -> last 'assigned' line. */
function generationSpans(workers: readonly WorkerEvent[], from: number): number[] {
  const generations = new Map<number, number[]>()
  for (const e of workers) {
    if (e.event !== 'assigned' || e.generationId === undefined || e.t < from) continue
    generations.set(e.generationId, [...(generations.get(e.generationId) ?? []), e.t])
  }
  const told = workers.filter((e) => e.event === 'rebalance' && e.t >= from).map((e) => e.t)
  let previousEnd = from
  const spans: number[] = []
  for (const [, times] of [...generations].sort((a, b) => a[0] - b[0])) {
    const first = Math.min(...times)
    const last = Math.max(...times)
    const start = told.find((t) => t > previousEnd && t <= first) ?? first
    spans.push(last - start)
    previousEnd = last
  }
  return spans
}

function gaps(times: readonly number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b)
  return sorted.slice(1).map((t, i) => t - sorted[i]!)
}
