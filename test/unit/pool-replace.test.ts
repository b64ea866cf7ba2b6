/**
 * The local pool's side of the health check, with stand-in worker programs (real processes,
 * no Kafka): which workers it expects in the group, replacing the ones named, the backoff, and
 * how it starts every worker so none outlives it (a stdin pipe and --exit-with-parent).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLocalPool } from '../../src/autoscaler/backends/local.ts'
import type { ConsumerHealth } from '../../src/autoscaler/types.ts'
import { createLogger } from '../../src/log.ts'
import { waitFor } from '../support/wait.ts'

const quiet = createLogger({ name: 'test', level: 'silent' })

/** Says it started (as `lagscale consumer` does), with how it was started; exits on SIGTERM. */
const standIn = {
  file: process.execPath,
  args: [
    '-e',
    `const { fstatSync } = require('node:fs')
     const stdin = fstatSync(0)
     console.log(JSON.stringify({
       event: 'started',
       port: 4000 + process.pid % 1000,
       exitWithParent: process.argv.includes('--exit-with-parent'),
       clientId: process.argv[process.argv.indexOf('--client-id') + 1],
       stdinPipe: stdin.isFIFO() || stdin.isSocket()
     }))
     process.on('SIGTERM', () => process.exit(0))
     setInterval(() => {}, 1000)`,
    '--'
  ]
}

const missing = (clientIds: string[], at = Date.now()): ConsumerHealth => ({
  at,
  missing: { count: clientIds.length, running: 2, clientIds, forMs: 45_000 },
  stalled: [],
  problems: [`${clientIds.length} of 2 consumers are not in the group for 45 s (${clientIds.join(', ')})`]
})

test('replaces the workers named (missing or owning a stalled partition), then backs off', async () => {
  const lines: Record<string, unknown>[] = []
  const pool = createLocalPool({
    consumerArgs: [],
    logger: quiet,
    command: standIn,
    onOutput: (_w, line) => lines.push(JSON.parse(line) as Record<string, unknown>)
  })
  try {
    await pool.scaleTo(2)
    await waitFor('2 running', () => pool.workers.filter((w) => w.state === 'running').length === 2)
    const before = await pool.status()
    assert.deepEqual(
      before.expectedMembers?.map((m) => m.clientId),
      ['lagscale-worker-1-consumer', 'lagscale-worker-2-consumer'],
      'the client ids the group will show'
    )
    assert.ok(
      lines.every((l) => l['exitWithParent'] === true && l['stdinPipe'] === true),
      `every worker has a stdin pipe and --exit-with-parent: ${JSON.stringify(lines)}`
    )
    assert.deepEqual(
      lines.map((l) => l['clientId']).sort(),
      ['lagscale-worker-1', 'lagscale-worker-2'],
      'as --client-id'
    )

    const report = await pool.replaceUnhealthy(missing(['lagscale-worker-2-consumer', 'someone-else']))
    assert.deepEqual(report?.replaced, ['lagscale-worker-2-consumer'], 'only its own workers')
    await waitFor(
      'worker-2 gone, worker-3 running',
      () =>
        !pool.workers.some((w) => w.id === 'worker-2') &&
        pool.workers.some((w) => w.id === 'worker-3' && w.state === 'running')
    )
    const after = await pool.status()
    assert.equal(after.running, 2)
    const worker3 = after.expectedMembers?.find((m) => m.clientId === 'lagscale-worker-3-consumer')
    assert.ok(worker3 && worker3.since >= before.expectedMembers![1]!.since, 'the new one has its own grace')

    // Right after: the backoff holds the next one, whatever it is for.
    const stalled: ConsumerHealth = {
      at: Date.now(),
      stalled: [
        {
          topic: 't',
          partition: 3,
          committedOffset: 120,
          forMs: 60_000,
          lagBefore: 40,
          lag: 90,
          owner: 'lagscale-worker-1-consumer'
        }
      ],
      problems: [
        'partition 3 stalled: committed 120 for 60 s while lag grew 40 -> 90; owner lagscale-worker-1-consumer'
      ]
    }
    const held = await pool.replaceUnhealthy(stalled)
    assert.deepEqual(held?.replaced, [])
    assert.match(
      held?.note ?? '',
      /^not replacing lagscale-worker-1-consumer before \S+ \(30 s after the last replacement\)$/
    )
    assert.ok(
      pool.workers.some((w) => w.id === 'worker-1' && w.state === 'running'),
      'worker-1 still runs'
    )
    assert.equal(await pool.replaceUnhealthy(missing(['nobody-we-run'])), undefined, 'nothing of ours: nothing to say')
  } finally {
    await pool.close()
  }
  assert.equal(pool.workers.length, 0)
})
