import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { runCli, uniqueName } from '../support/cli.ts'
import { freshTopic } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'

const bs = (): string[] => ['--bootstrap-server', testEnv().bootstrap]

/** One line on stderr, the given exit code, nothing on stdout. */
function assertOneLineError(r: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp) {
  assert.equal(r.code, code, r.stderr)
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`)
  assert.match(r.stderr, pattern)
  assert.equal(r.stdout, '')
}

describe('lagscale lag and autoscale commands', () => {
  test('lag: the per-partition table with time lag; json; bad flags and an unreachable broker fail in one line', async () => {
    const topic = await freshTopic('cli-lag', 2)
    const group = uniqueName('cli-lag')
    const produced = await runCli(['produce', ...bs(), '--topic', topic], { input: '1\n2\n3\n4\n5\n' })
    assert.equal(produced.code, 0, produced.stderr)
    const text = await runCli(['lag', ...bs(), '--group', group, '--topic', topic])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +TIME-LAG/m)
    assert.match(text.stdout, /SumOffsetLag: 5 {2}MaxOffsetLag: [23] {2}EstimatedMaxTimeLag: \d/)
    assert.match(text.stdout, /State: Dead {2}Members: 0/)
    const json = await runCli(['lag', ...bs(), '--group', group, '--topic', topic, '--output', 'json'])
    const o = JSON.parse(json.stdout) as { sumOffsetLag: number; partitions: { lagFrom: string }[] }
    assert.equal(o.sumOffsetLag, 5)
    assert.ok(o.partitions.every((p) => p.lagFrom === 'earliest'))

    assertOneLineError(
      await runCli(['lag', ...bs(), '--group', group, '--watch', '--interval', 'often']),
      2,
      /--interval must be a duration/
    )
    const started = performance.now()
    const down = await runCli(['lag', '--bootstrap-server', '127.0.0.1:1', '--group', group, '--topic', topic])
    assert.equal(down.code, 1, down.stderr)
    assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr)
    assert.ok(performance.now() - started < 30_000, 'fails within the bound')
  })

  test('autoscale --once: one decision with its reason, nothing started', async () => {
    const topic = await freshTopic('cli-once', 1)
    const group = uniqueName('cli-once')
    const produced = await runCli(['produce', ...bs(), '--topic', topic], { input: '5\n5\n5\n5\n' })
    assert.equal(produced.code, 0, produced.stderr)
    const r = await runCli([
      'autoscale',
      ...bs(),
      '--group',
      group,
      '--topic',
      topic,
      '--once',
      '--max',
      '8',
      '--record-time',
      '30s',
      '--drain-target',
      '60s'
    ])
    assert.equal(r.code, 0, r.stderr)
    // 4 records x 30 s on 1 partition: 120 s with 1 consumer; the partition caps it at 1.
    assert.match(r.stdout, /^scale-out 0 -> 1 \(drain, SumOffsetLag 4\): /)
    assert.match(r.stdout, /capped at 1: .*1 partition/)
    assert.match(r.stdout, /\d+ partitions would drain/)
  })

  test('autoscale: bad settings are one line naming the key, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-autoscale-'))
    const file = join(dir, 'lagscale.yaml')
    writeFileSync(file, 'drain:\n  drainTarget: 60s\n')
    assertOneLineError(
      await runCli(['autoscale', ...bs(), '--config', file, '--once']),
      2,
      /unknown key drain\.drainTarget/
    )
    assertOneLineError(
      await runCli(['autoscale', ...bs(), '--config', join(dir, 'nope.yaml')]),
      2,
      /cannot read config file .*nope\.yaml: ENOENT/
    )
    assertOneLineError(
      await runCli(['autoscale', ...bs(), '--backend', 'ecs', '--once']),
      2,
      /needs ecs\.cluster and ecs\.service/
    )
    assertOneLineError(await runCli(['autoscale', ...bs(), '--policy', 'magic']), 2, /policy: must be one of/)
    assertOneLineError(await runCli(['autoscale', ...bs(), '--min', '3', '--max', '2']), 2, /min: must not be more/)
    assertOneLineError(
      await runCli(['autoscale', ...bs(), '--lag-threshold', '0', '--policy', 'keda']),
      2,
      /^lagscale: --lag-threshold: must be at least 1; got "0"$/m
    )
  })
})
