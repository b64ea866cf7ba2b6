import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Policy } from '../../src/autoscaler/types.ts'
import {
  formatSimText,
  generateLoad,
  parseSimOptions,
  type SimOptionsInput,
  type SimResult,
  simulate,
  sparkline
} from '../../src/sim/index.ts'
import { runModel } from '../../src/sim/model.ts'
import { seededRandom } from '../../src/sim/prng.ts'
import { runCli } from '../support/cli.ts'

/** Every record worked exactly once, by someone: the model never loses or repeats one. */
function assertConsistent(r: SimResult): void {
  assert.equal(
    r.consumers.reduce((sum, c) => sum + c.records, 0),
    r.records,
    'records worked'
  )
  assert.equal(
    r.consumers.reduce((sum, c) => sum + c.workMs, 0),
    r.workMs,
    'handler time'
  )
  for (const c of r.consumers) assert.ok(c.busyMs >= 0 && c.idleMs >= 0 && c.busyMs <= c.memberMs, c.id)
}

test('1 partition, values 1, 2, 3, one consumer already running: drains in exactly 6 s', () => {
  const r = simulate({
    partitions: 1,
    values: [1, 2, 3],
    workUnitMs: 1000,
    initialConsumers: 1,
    startupMs: 0,
    min: 1,
    max: 1
  })
  assert.equal(r.drainMs, 6000)
  assert.equal(r.endMs, 6000)
  assert.equal(r.endReason, 'settled')
  assert.equal(r.rebalances.count, 0)
  assert.equal(r.consumers.length, 1)
  assert.deepEqual(
    { records: r.consumers[0]!.records, busyMs: r.consumers[0]!.busyMs, idleMs: r.consumers[0]!.idleMs },
    { records: 3, busyMs: 6000, idleMs: 0 }
  )
  assert.equal(r.consumerSeconds, 6)
  assert.ok(r.decisions.every((d) => d.desired === 1))
  assertConsistent(r)
})

test('8 partitions, 8 records of 2 units, 8 consumers from the start: drain = start-up + 2 s (joining an empty group is no rebalance)', () => {
  for (const startupMs of [0, 1500, 4000]) {
    const r = simulate({ partitions: 8, values: Array(8).fill(2), min: 8, max: 8, startupMs, rebalancePauseMs: 3000 })
    assert.equal(r.drainMs, startupMs + 2000, `start-up ${startupMs}`)
    assert.equal(r.rebalances.count, 0)
    assert.equal(r.rebalances.pauseMs, 0)
    assert.deepEqual(
      r.consumers.map((c) => [c.joinedMs, c.records, c.busyMs]),
      Array(8).fill([startupMs, 1, 2000])
    )
    // Each consumer costs its start-up and its record.
    assert.equal(r.consumerSeconds, (8 * (startupMs + 2000)) / 1000)
    // Asked for at 0, in the group after the start-up.
    assert.deepEqual(r.series[0], { t: 0, desired: 8, running: startupMs === 0 ? 8 : 0, processes: 8 })
    if (startupMs > 0) assert.deepEqual(r.series[1], { t: startupMs, desired: 8, running: 8, processes: 8 })
    assertConsistent(r)
  }
})

test('consumers starting together share the cores: each start-up grows by startupPerConcurrentMs per other one', () => {
  const r = simulate({
    partitions: 8,
    values: Array(8).fill(2),
    min: 8,
    max: 8,
    startupMs: 1000,
    startupPerConcurrentMs: 500,
    rebalancePauseMs: 0
  })
  // 8 start at once: 1000 + 7 x 500 = 4500 ms, then 2 s of work each.
  assert.deepEqual(new Set(r.consumers.map((c) => c.joinedMs)), new Set([4500]))
  assert.equal(r.drainMs, 6500)
  const alone = simulate({ partitions: 1, values: [2], min: 1, max: 1, startupMs: 1000, startupPerConcurrentMs: 500 })
  assert.equal(alone.consumers[0]!.joinedMs, 1000, 'one process alone: the base start-up')
})

/** A policy that asks for `plan[i]` consumers at its i-th tick (then the last one): start-ups at chosen moments. */
function scripted(plan: readonly number[]): Policy {
  let tick = 0
  return ({ now, state }) => {
    const desired = plan[Math.min(tick++, plan.length - 1)]!
    const action = desired > state.current ? 'scale-out' : desired < state.current ? 'scale-in' : 'hold'
    return { at: now, policy: 'scripted', desired, from: state.current, action, reason: `plan: ${desired}` }
  }
}

function runScripted(plan: readonly number[], input: SimOptionsInput): SimResult {
  const options = parseSimOptions({ partitions: 4, values: [20, 20, 20, 20], initialConsumers: 1, ...input })
  return runModel({ options, load: generateLoad(options, seededRandom(options.seed)), policy: scripted(plan) })
}

test('a consumer spawned while others load shares the cores with them: every one of them is slowed', () => {
  // Start-up 1000 ms: 600 ms of loading on the shared cores, then 400 ms of its own. Ticks every 300 ms.
  const common = { startupMs: 1000, startupPerConcurrentMs: 600, rebalancePauseMs: 0, intervalMs: 300, max: 3 }
  // A at 0 loads alone until 300 (300 done), then shares with B: A's last 300 take 600 ms (loaded
  // at 900, in the group at 1300); B has 300 done by then, loads alone to 1200, joins at 1600.
  const r = runScripted([2, 3], common)
  assert.deepEqual(
    r.consumers.slice(1).map((c) => [c.requestedMs, c.joinedMs]),
    [
      [0, 1300],
      [300, 1600]
    ]
  )
  // B stopped at 600 while loading: A has 450 done then, loads alone again and joins at 750 + 400.
  const stopped = runScripted([2, 3, 2], common)
  assert.deepEqual(
    stopped.consumers.slice(1).map((c) => [c.requestedMs, c.joinedMs, c.leftMs]),
    [
      [0, 1150, undefined],
      [300, undefined, 600]
    ]
  )
  assertConsistent(r)
  assertConsistent(stopped)
})

test('consumers joining a working group pause it: drain = start-up + pause + 2 s', () => {
  // worker-1 owns all 8 partitions at first and finishes p0's record at 2 s, during the pause;
  // the 7 others join at 1.5 s, the pause ends at 4.5 s, each then works its partition's record.
  const r = simulate({
    partitions: 8,
    values: Array(8).fill(2),
    initialConsumers: 1,
    min: 8,
    max: 8,
    startupMs: 1500,
    rebalancePauseMs: 3000
  })
  assert.equal(r.drainMs, 1500 + 3000 + 2000)
  assert.equal(r.rebalances.count, 1)
  assert.equal(r.rebalances.pauseMs, 3000)
  assert.deepEqual(r.rebalances.log, [{ t: 1500, untilMs: 4500, members: 8 }])
  assert.deepEqual(
    r.consumers.map((c) => c.records),
    [1, 1, 1, 1, 1, 1, 1, 1]
  )
  assertConsistent(r)
})

test('a removed consumer finishes its record, then leaves; its partition moves after the pause', () => {
  // p0: values 1, 1 (worker-1); p1: values 4, 1 (worker-2). The first decision scales 2 -> 1 at t = 0:
  // worker-2 keeps running its 4 s record, leaves at 4 s, the pause ends at 7 s, worker-1 works p1's last.
  const r = simulate({
    partitions: 2,
    values: [1, 4, 1, 1],
    initialConsumers: 2,
    min: 1,
    max: 1,
    startupMs: 0,
    rebalancePauseMs: 3000
  })
  assert.equal(r.decisions[0]!.action, 'scale-in')
  const [w1, w2] = r.consumers
  assert.deepEqual(
    { stop: w2!.stopRequestedMs, left: w2!.leftMs, records: w2!.records, busy: w2!.busyMs },
    { stop: 0, left: 4000, records: 1, busy: 4000 }
  )
  assert.equal(w1!.records, 3)
  assert.equal(r.drainMs, 8000)
  assert.deepEqual(r.rebalances.log, [{ t: 4000, untilMs: 7000, members: 1 }])
  assertConsistent(r)
})

test('seed policy on 1 partition as the seed ran it: 8 consumers, 7 idle; drain stays at 1 (S23)', () => {
  const seed = simulate({ partitions: 1, policy: 'seed', policyOptions: { ignorePartitionCap: true } })
  assert.equal(seed.peak.desired, 8)
  assert.equal(seed.peak.running, 8)
  const idle = seed.consumers.filter((c) => c.records === 0)
  assert.equal(idle.length, 7)
  for (const c of idle) {
    assert.equal(c.busyMs, 0, c.id)
    assert.ok(c.memberMs > 0, c.id)
  }
  assert.equal(seed.consumers.find((c) => c.records > 0)!.records, 100)
  assert.ok(seed.decisions.some((d) => d.action === 'scale-out' && d.desired === 8 && /out alarm/.test(d.reason)))
  assertConsistent(seed)

  const drain = simulate({ partitions: 1, policy: 'drain' })
  assert.equal(drain.peak.desired, 1)
  assert.equal(drain.consumers.length, 1)
  assert.ok(drain.decisions.some((d) => /capped at 1: Topic_from_java has 1 partition with lag/.test(d.reason)))
  // The same work on the same one consumer: no faster (the 7 joining even pause it once), for an eighth of the cost.
  assert.ok(drain.drainMs! <= seed.drainMs!)
  assert.equal(seed.rebalances.count, 2)
  assert.ok(drain.consumerSeconds * 8 < seed.consumerSeconds)
  assertConsistent(drain)
})

test('the burst: the seed values 0..10, keyless round robin over the partitions', () => {
  const load = generateLoad(parseSimOptions({ partitions: 4, records: 100 }), seededRandom(1))
  const values = [...load.value]
  assert.equal(Math.min(...values), 0)
  assert.equal(Math.max(...values), 10)
  assert.ok(values.every((v) => Number.isInteger(v)))
  assert.deepEqual([...load.partition.slice(0, 6)], [0, 1, 2, 3, 0, 1])
  assert.ok([...load.producedAt].every((t) => t === 0))
  const rate = generateLoad(
    parseSimOptions({ partitions: 3, records: 0, rate: 2, rateDurationMs: 2000 }),
    seededRandom(1)
  )
  assert.deepEqual([...rate.producedAt], [0, 500, 1000, 1500])
})

test('deterministic: the same seed gives the same run, another seed another load', () => {
  const a = simulate({ partitions: 4, records: 200, seed: 7 })
  const b = simulate({ partitions: 4, records: 200, seed: 7 })
  assert.deepEqual(a, b)
  const c = simulate({ partitions: 4, records: 200, seed: 8 })
  assert.notDeepEqual(
    [...generateLoad(a.options, seededRandom(7)).value],
    [...generateLoad(c.options, seededRandom(8)).value]
  )
  assert.notEqual(a.workMs, c.workMs)
})

test('fast: 10,000 records on 8 partitions under drain in well under a second', () => {
  const started = performance.now()
  const r = simulate({ partitions: 8, records: 10_000, policy: 'drain', workUnitMs: 100 })
  const ms = performance.now() - started
  assert.ok(ms < 1000, `took ${Math.round(ms)} ms`)
  assert.equal(r.peak.desired, 8)
  assertConsistent(r)
})

test('options: bad values are usage errors naming the option', () => {
  assert.throws(() => simulate({ partitions: 0 }), { exitCode: 2, message: /partitions: must be at least 1/ })
  assert.throws(() => simulate({ min: 3, max: 2 }), { exitCode: 2, message: /min: must not be more than max/ })
  assert.throws(() => simulate({ rate: 5 }), { exitCode: 2, message: /rateDurationMs/ })
  assert.throws(() => simulate({ policy: 'drain', policyOptions: { drainTargetMs: 5 } }), {
    exitCode: 2,
    message: /drain policy: drainTargetMs/
  })
  assert.throws(() => simulate({ bogus: 1 } as never), { exitCode: 2, message: /unknown option bogus/ })
})

test('text report: summary, sparklines, consumers, decisions', () => {
  assert.equal(sparkline([0, 1, 4, 8]), ' ▁▄█')
  const text = formatSimText(simulate({ partitions: 1, policy: 'seed', policyOptions: { ignorePartitionCap: true } }))
  assert.match(text, /^drain time {2}\d/m)
  assert.match(text, /8 started, 7 never got a record/)
  assert.match(text, /^running {6}8 \|/m)
  assert.match(text, /^lagscale-worker-8 /m)
  assert.match(text, /scale-out 1 -> 8: SumOffsetLag 100 > 0/)
})

test('CLI: lagscale simulate --output json; a bad flag is one line on stderr, exit 2', async () => {
  const [r, seed, bad, wrongPolicy, unknown] = await Promise.all([
    runCli(['simulate', '--output', 'json']),
    runCli(['simulate', '--policy', 'seed', '--ignore-partition-cap', '--max', '8']),
    runCli(['simulate', '--partitions', '0']),
    runCli(['simulate', '--policy', 'keda', '--drain-target', '30s']),
    runCli(['simulate', '--bogus'])
  ])
  assert.equal(r.code, 0, r.stderr)
  const result = JSON.parse(r.stdout) as SimResult
  assert.equal(result.options.partitions, 1)
  assert.equal(result.options.policy, 'drain')
  assert.equal(result.records, 100)
  assert.equal(result.peak.desired, 1)
  assert.ok(result.decisions.length > 0 && result.lag.length > 0)

  assert.equal(seed.code, 0, seed.stderr)
  assert.match(seed.stdout, /8 started, 7 never got a record/)

  assert.equal(bad.code, 2)
  assert.equal(bad.stderr, 'lagscale: simulate: --partitions: must be at least 1; got "0"\n')
  assert.equal(wrongPolicy.code, 2)
  assert.equal(wrongPolicy.stderr, 'lagscale: --drain-target is a drain policy option; the policy is keda\n')
  assert.equal(unknown.code, 2)
  assert.match(unknown.stderr, /^error: unknown option '--bogus'/)
})
