/**
 * The local pool's process management with stand-in worker programs (real processes,
 * no Kafka): which workers a scale-in stops, SIGKILL after the grace, and no crash loop.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLocalPool, type LocalPoolBackend } from '../../src/autoscaler/backends/local.ts'
import { createLogger } from '../../src/log.ts'
import { waitFor } from '../support/wait.ts'

const quiet = createLogger({ name: 'test', level: 'silent' })

/** A worker that says it started (as `lagscale consumer` does) and exits on SIGTERM, or ignores it. */
const standIn = (onSigterm: 'exit' | 'ignore') => ({
  file: process.execPath,
  args: [
    '-e',
    `console.log(JSON.stringify({ event: 'started', port: 4000 + process.pid % 1000 }));
     process.on('SIGTERM', () => { ${onSigterm === 'exit' ? 'process.exit(0)' : ''} });
     setInterval(() => {}, 1000)`,
    '--'
  ]
})

async function withPool<T>(pool: LocalPoolBackend, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } finally {
    await pool.close()
  }
}

test('scale-out spawns, scale-in stops the newest workers and waits for nothing else', async () => {
  const pool = createLocalPool({ consumerArgs: [], logger: quiet, command: standIn('exit') })
  await withPool(pool, async () => {
    await pool.scaleTo(3)
    await waitFor('3 running', () => pool.workers.filter((w) => w.state === 'running').length === 3)
    assert.ok(
      pool.workers.every((w) => w.port !== undefined),
      'ports read from the start log'
    )
    await pool.scaleTo(1)
    await waitFor('2 stopped', () => pool.workers.length === 1)
    assert.deepEqual(
      pool.workers.map((w) => w.id),
      ['worker-1'],
      'the oldest stays'
    )
    const status = await pool.status()
    assert.equal(status.desired, 1)
    assert.equal(status.running, 1)
  })
})

test('a worker that ignores SIGTERM is killed after killAfterMs', async () => {
  const pool = createLocalPool({ consumerArgs: [], logger: quiet, command: standIn('ignore'), killAfterMs: 500 })
  await pool.scaleTo(1)
  await waitFor('running', () => pool.workers[0]?.state === 'running')
  const started = performance.now()
  await pool.close()
  const ms = performance.now() - started
  assert.equal(pool.workers.length, 0)
  assert.ok(ms >= 450 && ms < 5000, `killed after the grace: ${Math.round(ms)} ms`)
})

test('a worker that keeps dying at start is replaced with a growing delay, not in a tight loop', async () => {
  const pool = createLocalPool({
    consumerArgs: [],
    logger: quiet,
    command: { file: process.execPath, args: ['-e', 'process.exit(3)', '--'] }
  })
  await withPool(pool, async () => {
    await pool.scaleTo(1)
    const started = Date.now()
    // Replacement delays 1 s, then 2 s: the 2nd replacement (worker-3) comes after >= 3 s (without the
    // growth: 2 s). The wait is generous: on a loaded CI machine each Node spawn alone can take seconds.
    // Each stand-in lives only ~50 ms: poll often enough to see it.
    await waitFor('the second replacement', () => pool.workers.some((w) => w.id === 'worker-3'), 45_000, { everyMs: 5 })
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 2900, `back-off between replacements: worker-3 after ${elapsed} ms`)
  })
})

/** Like `lagscale consumer --standby`: says "standby", then "started" after a line "start"; exits when stdin closes. */
const standbyStandIn = {
  file: process.execPath,
  args: [
    '-e',
    `const port = 4000 + process.pid % 1000
     const say = (event) => console.log(JSON.stringify({ event, port }))
     process.on('SIGTERM', () => process.exit(0))
     if (process.argv.includes('--standby')) {
       say('standby')
       require('node:readline').createInterface({ input: process.stdin })
         .on('line', (l) => { if (l === 'start') say('started') })
         .on('close', () => process.exit(0))
     } else say('started')
     setInterval(() => {}, 1000)`,
    '--'
  ]
}

test('standby: kept beside the running workers, promoted first on scale-out, topped up after', async () => {
  const pool = createLocalPool({ consumerArgs: [], logger: quiet, command: standbyStandIn, standby: 1 })
  await withPool(pool, async () => {
    await pool.scaleTo(1)
    await waitFor('worker-1 running and worker-2 a ready standby', async () => {
      const s = await pool.status()
      return s.running === 1 && s.detail?.['standbyReady'] === 1 && pool.workers[0]?.state === 'running'
    })
    assert.deepEqual(
      pool.workers.map((w) => [w.id, w.state]),
      [
        ['worker-1', 'running'],
        ['worker-2', 'standby']
      ]
    )
    const standbyPid = pool.workers[1]!.pid
    await pool.scaleTo(2)
    assert.equal(pool.workers[1]!.state, 'starting', 'promoted at once, nothing spawned for it')
    assert.equal(pool.workers.length, 2, 'no new standby while a worker is starting')
    await waitFor('worker-2 running and worker-3 standing by', () =>
      pool.workers.some((w) => w.id === 'worker-3' && w.state === 'standby')
    )
    assert.equal(pool.workers.find((w) => w.id === 'worker-2')?.pid, standbyPid, 'the standby process itself runs')
    assert.equal(pool.workers.find((w) => w.id === 'worker-2')?.state, 'running')
    const status = await pool.status()
    assert.equal(status.running, 2, 'standbys are not counted as running')
    assert.equal(status.detail?.['standby'], 1)

    await pool.scaleTo(1)
    await waitFor('worker-2 stopped', () => !pool.workers.some((w) => w.id === 'worker-2'))
    assert.deepEqual(
      pool.workers.map((w) => [w.id, w.state]),
      [
        ['worker-1', 'running'],
        ['worker-3', 'standby']
      ],
      'scale-in stops the newest running worker and keeps the standby'
    )
  })
  assert.equal(pool.workers.length, 0, 'close stops the standby too')
})

test('standby: a scale-out larger than the standbys promotes them and spawns the rest', async () => {
  const pool = createLocalPool({ consumerArgs: [], logger: quiet, command: standbyStandIn, standby: 2 })
  await withPool(pool, async () => {
    await pool.scaleTo(1)
    await waitFor('2 standbys ready', async () => (await pool.status()).detail?.['standbyReady'] === 2)
    await pool.scaleTo(4)
    assert.deepEqual(
      pool.workers.map((w) => [w.id, w.state]),
      [
        ['worker-1', 'running'],
        ['worker-2', 'starting'],
        ['worker-3', 'starting'],
        ['worker-4', 'starting']
      ],
      'two standbys promoted, one spawned'
    )
    await waitFor('4 running, 2 standbys again', async () => {
      const s = await pool.status()
      return (
        s.running === 4 &&
        s.detail?.['standbyReady'] === 2 &&
        pool.workers.filter((w) => w.state === 'running').length === 4
      )
    })
  })
})
