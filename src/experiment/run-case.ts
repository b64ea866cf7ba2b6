/**
 * One case of the experiment on a real broker: a fresh topic with P partitions, the autoscaler
 * (createAutoscaler, local backend, the case's policy, min 1, one worker in the group first),
 * the seeded load produced right after a tick, then wait until every record is finished and the
 * pool is back at min; measured from the workers' own log lines and the loop's snapshots
 * (analysis.ts), next to the physical lower bound and the simulator's prediction.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { AutoscalerConfigInput } from '../autoscaler/config.ts'
import { createAutoscaler, type RunningAutoscaler } from '../autoscaler/index.ts'
import { SETTING_SOURCES } from '../consumer/config.ts'
import type { Ordering } from '../consumer/scheduler.ts'
import { createAdmin, createProducer, type RawProducer } from '../kafka/clients.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'
import { createTopic, deleteTopic } from '../kafka/topics.ts'
import { analyzeCase, type CaseLoad, lowerBound } from './analysis.ts'
import { caseLoad } from './load.ts'
import { simulateCase, toPrediction } from './predict.ts'
import { CaseRecorder } from './recorder.ts'
import { median } from './stats.ts'
import type { Calibration, CaseResult, CaseSpec, ExperimentTiming, Measured } from './types.ts'

/** Ticks with the first worker in the group before the load: the loop's history, mirrored by the simulation. */
export const WARM_TICKS = 2

export interface RunCaseOptions {
  connection: ConnectionConfig
  /** The `--command-config` file the workers read (secrets stay in it). */
  commandConfigPath?: string
  spec: CaseSpec
  timing: ExperimentTiming
  /** With singleStartMs and workers, the simulator's start-up grows with the processes starting at once. */
  calibration: Pick<Calibration, 'startupMs' | 'rebalancePauseMs'> &
    Partial<Pick<Calibration, 'singleStartMs' | 'workers'>>
  /** Seed of the load's values (default 1, the simulator's default). */
  loadSeed?: number
  /** After the drain, stop waiting for the pool to get back to min after this long (default 90 s). */
  settleTimeoutMs?: number
  /** Longest the drain may take (default: 4 x the work of one consumer, at least 2 min). */
  drainTimeoutMs?: number
  topicPrefix?: string
  onProgress?: (status: string) => void
  signal?: AbortSignal
  /** Gets the case's recorder (every raw line and snapshot) when the case starts: debugging, raw dumps. */
  onRecorder?: (recorder: CaseRecorder) => void
}

/** Arguments of every worker, as the autoscaler's local backend gives them. */
export function workerArgs(
  connection: ConnectionConfig,
  commandConfigPath: string | undefined,
  topic: string,
  group: string,
  concurrency: number,
  ordering: Ordering
): string[] {
  return [
    '--bootstrap-server',
    connection.bootstrapServers.join(','),
    ...(commandConfigPath ? ['--command-config', commandConfigPath] : []),
    '--topic',
    topic,
    '--group',
    group,
    '--port',
    '0',
    '--concurrency',
    String(concurrency),
    '--ordering',
    ordering,
    '--log-level',
    'info'
  ]
}

/** This process's environment without the worker settings (WORK_UNIT_MS, ...): the case's flags decide. */
export function workerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const [, name] of SETTING_SOURCES) delete env[name]
  delete env['LAGSCALE_DEBUG']
  return env
}

export interface WaitOptions {
  timeoutMs: number
  everyMs?: number
  signal?: AbortSignal
  /** Fail at once when a worker dies on its own. */
  recorder?: CaseRecorder
  onPoll?: () => void
}

/** Polls `probe` until it returns a value (not undefined/false); fails on timeout, abort or a worker's death. */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  const deaths = options.recorder?.deaths().length ?? 0
  for (;;) {
    if (options.signal?.aborted) throw new Error('interrupted')
    const died = options.recorder?.deaths().slice(deaths)[0]
    if (died) {
      const stray = options.recorder!.stray.slice(-5).join('\n  ')
      throw new Error(
        `a worker died while waiting for ${what}: ${died.msg ?? died.worker}${stray ? `\n  ${stray}` : ''}`
      )
    }
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}`)
    options.onPoll?.()
    await sleep(options.everyMs ?? 100)
  }
}

export async function runCase(options: RunCaseOptions): Promise<CaseResult> {
  const { spec, timing, connection } = options
  const wallStart = performance.now()
  const progress = options.onProgress ?? (() => {})
  const load = caseLoad(spec.records, spec.partitions, options.loadSeed)
  const suffix = Date.now().toString(36)
  const topic = `${options.topicPrefix ?? 'lagscale-experiment'}-${spec.id}-${suffix}`
  const group = `${topic}-group`
  const settleTimeoutMs = options.settleTimeoutMs ?? 90_000
  const oneConsumerMs = load.values.reduce((s, v) => s + v * timing.workUnitMs, 0)
  const drainTimeoutMs = options.drainTimeoutMs ?? Math.max(120_000, 4 * oneConsumerMs)
  const recorder = new CaseRecorder()
  options.onRecorder?.(recorder)
  const admin = createAdmin(connection)
  let scaler: RunningAutoscaler | undefined
  let producer: RawProducer | undefined
  const signal = options.signal
  const wait = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms: number) =>
    waitUntil(what, probe, { timeoutMs: ms, recorder, ...(signal ? { signal } : {}) })
  try {
    await createTopic(admin, { topic, partitions: spec.partitions, replicationFactor: 1 })
    progress('starting the autoscaler and its first worker')
    scaler = await createAutoscaler({
      connection,
      logger: recorder.logger,
      onWorkerOutput: recorder.onWorkerOutput,
      workerEnv: workerEnv(),
      ...(options.commandConfigPath ? { commandConfigPath: options.commandConfigPath } : {}),
      config: {
        group,
        topics: [topic],
        backend: 'local',
        policy: spec.policy,
        ...policyConfig(spec, timing),
        min: timing.min,
        max: timing.max,
        interval: timing.intervalMs,
        scaleOutCooldown: timing.scaleOutCooldownMs,
        scaleInCooldown: timing.scaleInCooldownMs,
        concurrency: spec.concurrency,
        ordering: spec.ordering,
        dashboard: { enabled: false },
        local: {
          consumerArgs: ['--work-unit-ms', String(timing.workUnitMs), '--log-level', 'info'],
          killAfter: 30_000,
          // Cold starts only: the simulator's start-up time is calibrated on them, and every
          // policy pays the same start-up, so warm standbys would not change who wins.
          standby: 0
        }
      }
    })
    const running = scaler
    const first = running.loop.snapshot()
    if (first) recorder.onSnapshot(first)
    running.loop.subscribe(recorder.onSnapshot)
    producer = createProducer(connection)
    await producer.metadata({ topics: [topic] })

    // One worker in the group with every partition, and a tick that saw it: the steady state before a burst.
    const assigned = await wait(
      'the first worker to get every partition',
      () => recorder.events('assigned').find((e) => e.partitions?.length === spec.partitions),
      60_000
    )
    // Steady state before the burst, as a running system has it: the worker in the group for a few
    // ticks (the loop's history; the drain policy compares the last intervals' produce rates). The
    // simulation starts WARM_TICKS ticks before the load, so its policy sees the same history.
    await wait(
      `${WARM_TICKS} ticks with the worker in the group`,
      () => recorder.snapshots.filter((s) => s.at > assigned.t).length >= WARM_TICKS,
      (WARM_TICKS + 10) * timing.intervalMs
    )
    // Produce right after a tick: the origin is that tick; the next one comes an interval later.
    const before = recorder.snapshots.length
    const tick = await waitUntil('the next tick', () => recorder.snapshots[before], {
      timeoutMs: 10 * timing.intervalMs,
      everyMs: 5,
      recorder,
      ...(signal ? { signal } : {})
    })
    const messages = load.values.map((v, i) => ({
      topic,
      partition: load.partitions[i]!,
      value: Buffer.from(String(v))
    }))
    const producedAt = Date.now()
    await producer.send({ messages })
    const produceMs = Date.now() - producedAt
    const origin = tick.at
    // The loop's real period (it waits an interval after each tick ends), measured before the load.
    const warm = recorder.snapshots
      .slice(0, before + 1)
      .filter((s) => s.at > assigned.t)
      .slice(-(WARM_TICKS + 1))
    const simStart = warm[0]!.at
    const loopPeriodMs = Math.round((origin - simStart) / Math.max(1, warm.length - 1))

    const status = () => {
      const o = recorder.snapshots.at(-1)?.snapshot
      const lag = o?.observation ? `, lag ${o.observation.sumOffsetLag}` : ''
      return `${recorder.finished}/${load.values.length} records done${lag}, ${o?.status.desired ?? '?'} desired / ${o?.status.running ?? '?'} running, ${((Date.now() - producedAt) / 1000).toFixed(0)} s`
    }
    let lastProgress = 0
    const tell = () => {
      if (Date.now() - lastProgress < 1000) return
      lastProgress = Date.now()
      progress(status())
    }
    await waitUntil('every record finished', () => recorder.finished >= load.values.length, {
      timeoutMs: drainTimeoutMs,
      recorder,
      onPoll: tell,
      ...(signal ? { signal } : {})
    })
    const drainedAt = Date.now()

    // Back at min: lag 0 observed, the backend at min with nothing starting or stopping.
    let endReason: Measured['endReason'] = 'settled'
    const settled = async () => {
      const s = recorder.snapshots.at(-1)
      if (!s || s.at < drainedAt - 100 || s.snapshot.observation?.sumOffsetLag !== 0) return false
      const st = await running.backend.status()
      const workers = (st.detail?.['workers'] ?? []) as { state: string }[]
      const stopping = Number(st.detail?.['stopping'] ?? 0)
      return st.desired === timing.min && workers.length === timing.min && stopping === 0
        ? workers.every((w) => w.state === 'running')
        : false
    }
    try {
      await waitUntil('the pool back at min', settled, {
        timeoutMs: settleTimeoutMs,
        recorder,
        everyMs: 200,
        onPoll: tell,
        ...(signal ? { signal } : {})
      })
    } catch (err) {
      if (signal?.aborted || !(err as Error).message.startsWith('timed out')) throw err
      endReason = 'settle-timeout'
    }
    // The end: the last worker that left (scale-in), or the drain when nobody left.
    const lastFinish = Math.max(...recorder.events('END').map((e) => e.t))
    const exits = recorder.workers.filter((e) => e.event === 'stopped' && e.t >= origin).map((e) => e.t)
    const end = endReason === 'settled' ? Math.max(lastFinish, ...exits) : Date.now()
    const wallEnd = Date.now()
    await scaler.close()
    scaler = undefined

    const measured = analyzeCase({
      recorder,
      load,
      workUnitMs: timing.workUnitMs,
      origin,
      producedAt,
      end,
      endReason
    })
    const simAt = {
      intervalMs: loopPeriodMs,
      burstAtMs: producedAt - simStart,
      startEpochMs: simStart,
      settleMs: endReason === 'settled' ? 30 * 60_000 : wallEnd - drainedAt
    }
    const shiftMs = origin - simStart
    const sim = simulateCase({ spec, load, timing, calibration: options.calibration, ...simAt })
    const result: CaseResult = {
      spec,
      topic,
      group,
      originEpochMs: origin,
      producedAtMs: producedAt - origin,
      produceMs,
      values: load.values,
      measured,
      bound: lowerBound(spec, load, timing),
      loopPeriodMs,
      predicted: toPrediction(sim, measured, shiftMs),
      wallMs: Math.round(performance.now() - wallStart)
    }
    const own = median(
      measured.consumers
        .filter((c) => c.spawnedMs > 0 && c.joinedMs !== undefined)
        .map((c) => c.joinedMs! - c.spawnedMs)
    )
    if (own !== undefined) {
      const startupMs = Math.max(0, Math.round(own - options.calibration.rebalancePauseMs))
      const again = toPrediction(
        simulateCase({
          spec,
          load,
          timing,
          calibration: { startupMs, rebalancePauseMs: options.calibration.rebalancePauseMs },
          ...simAt
        }),
        measured,
        shiftMs
      )
      result.replayed = { startupMs, consumerSeconds: again.consumerSeconds }
      if (again.drainMs !== undefined) result.replayed.drainMs = again.drainMs
      if (again.drainErrorPct !== undefined) result.replayed.drainErrorPct = again.drainErrorPct
    }
    return result
  } finally {
    await scaler?.close().catch(() => {})
    await producer?.close().catch(() => {})
    await deleteTopic(admin, topic).catch(() => {})
    await admin.close().catch(() => {})
  }
}

/** The case's policy options under the config key of that policy (seed, keda or drain). */
function policyConfig(spec: CaseSpec, timing: ExperimentTiming): Partial<AutoscalerConfigInput> {
  const options = timing.policyOptions[spec.policy]
  if (spec.policy === 'seed') return { seed: options as AutoscalerConfigInput['seed'] }
  if (spec.policy === 'keda') return { keda: options as AutoscalerConfigInput['keda'] }
  return { drain: options as AutoscalerConfigInput['drain'] }
}

export type { CaseLoad }
