/**
 * One short case of the experiment (issue 6) on the test broker: the calibration, then a scale-out
 * case whose measured drain time must match the simulator's prediction. The full matrix is
 * `npm run experiment`, not part of the tests.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { calibrate } from '../../src/experiment/calibrate.ts'
import type { ExperimentResult } from '../../src/experiment/experiment.ts'
import { renderHtml } from '../../src/experiment/report-html.ts'
import { renderMarkdown } from '../../src/experiment/report-md.ts'
import { runCase } from '../../src/experiment/run-case.ts'
import { experimentTiming } from '../../src/experiment/timing.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { testEnv } from '../support/test-env.ts'

/**
 * Tolerances. The model: the simulation with the start-up this case's own workers took must be
 * within 20 % (the report's goal is 10 %; a test case drains in ~7 s, so one calibrated
 * rebalance pause, 25-455 ms in the runs seen, is up to 6 % of it, and there are several). The prediction from the calibration alone also carries how far the machine's start-up
 * moved between the calibration and the case: other tests run beside this one, so it gets 40 %.
 */
const MODEL_TOLERANCE_PCT = 20
const PREDICTION_TOLERANCE_PCT = 40

describe('lagscale experiment on the real broker', () => {
  test('calibrate, then 4 partitions x drain: the pool scales out and the simulator predicts the drain time', async (t) => {
    const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
    const workUnitMs = 40
    const run = await calibrate({ connection, workUnitMs, workers: 3, rounds: 1, topicPrefix: 'test-experiment' })
    const c = run.calibration
    assert.ok(c.startupMs > 0 && c.startupMs < 30_000, `start-up measured: ${c.startupMs} ms`)
    assert.ok(c.rebalancePauseMs >= 0 && c.rebalancePauseMs < 10_000, `pause measured: ${c.rebalancePauseMs} ms`)

    const result = await runCase({
      connection,
      spec: { id: 'p4-drain-80', partitions: 4, policy: 'drain', records: 80, concurrency: 1, ordering: 'partition' },
      timing: experimentTiming(workUnitMs, c.rebalancePauseMs),
      calibration: c,
      topicPrefix: 'test-experiment'
    })
    const m = result.measured
    const p = result.predicted
    t.diagnostic(
      `calibration: start-up ${c.startupMs} ms, pause ${c.rebalancePauseMs} ms; measured drain ${m.drainMs} ms, ` +
        `peak ${m.peak.running}; simulator ${p.drainMs} ms (${p.drainErrorPct?.toFixed(1)} %), peak ${p.peak.running}; ` +
        `replayed with the case's own start-up: ${result.replayed?.drainMs} ms (${result.replayed?.drainErrorPct?.toFixed(1)} %)`
    )

    // Every record was done, and the load needed more than one consumer.
    assert.equal(m.finished, 80)
    assert.ok(m.drainMs !== undefined, 'drained')
    assert.ok(m.peak.running >= 2, `scaled out: peak ${m.peak.running}`)
    assert.ok(m.peak.running <= 4, `never above the 4 partitions: peak ${m.peak.running}`)
    assert.ok(p.drainMs !== undefined && p.drainErrorPct !== undefined, 'the simulation drained too')
    const replayed = result.replayed
    assert.ok(replayed?.drainErrorPct !== undefined, 'replayed with the case start-up')
    assert.ok(
      Math.abs(replayed.drainErrorPct) <= MODEL_TOLERANCE_PCT,
      `simulator with the case's start-up ${replayed.drainMs} ms vs measured ${m.drainMs} ms: ${replayed.drainErrorPct.toFixed(1)} % (tolerance ${MODEL_TOLERANCE_PCT} %)`
    )
    assert.ok(
      Math.abs(p.drainErrorPct) <= PREDICTION_TOLERANCE_PCT,
      `simulator ${p.drainMs} ms vs measured ${m.drainMs} ms: ${p.drainErrorPct.toFixed(1)} % (tolerance ${PREDICTION_TOLERANCE_PCT} %)`
    )

    // The report of this one-case run: its row with the measured and predicted drain, the goal's verdict, the charts.
    const report: ExperimentResult = {
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      workUnitMs,
      timing: experimentTiming(workUnitMs, c.rebalancePauseMs),
      calibration: run,
      machine: { cpus: 2, cpuModel: 'test', memoryGb: 1, loadAverageStart: [0, 0, 0], loadAverageEnd: [0, 0, 0] },
      broker: { bootstrap: testEnv().bootstrap, own: false },
      cases: [result],
      failures: [],
      wallMs: result.wallMs
    }
    const md = renderMarkdown(report)
    const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    const row = md.split('\n').find((line) => line.startsWith('| `p4-drain-80`'))
    assert.ok(row, 'a table row for the case')
    assert.ok(row.includes(`| ${sec(m.drainMs)} `) && row.includes(`| ${sec(p.drainMs)} `), row)
    const within = Math.abs(p.drainErrorPct) <= 10 ? 1 : 0
    assert.match(md, new RegExp(`\\*\\*${within} of 1 cases?\\*\\* met it`))
    assert.match(renderHtml(report), /<svg[^>]*>[\s\S]*p4-drain-80/)
  })
})
