/**
 * The health check's rules (src/autoscaler/health.ts), on hand-built observations: consumers
 * missing from the group beyond the grace, Burrow's stall rule, and when neither may be judged.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assessHealth, type HealthInput } from '../../src/autoscaler/health.ts'
import type { GroupMemberObservation, Observation } from '../../src/autoscaler/types.ts'
import { observationOf, partitionObservation, T0 } from '../support/observations.ts'

const OPTIONS = { memberGraceMs: 45_000, stallWindowMs: 60_000 }
const member = (n: number, partitions: number[] = []): GroupMemberObservation => ({
  memberId: `m-${n}`,
  clientId: `lagscale-worker-${n}`,
  host: '/127.0.0.1',
  partitions: partitions.map((partition) => ({ topic: 'Topic_from_java', partition }))
})
const expected = (ns: number[], since = T0 - 60_000) => ns.map((n) => ({ clientId: `lagscale-worker-${n}`, since }))

/** Every 5 s from T0: members per tick, 2 partitions committed at 1000 and moving unless told. */
function ticks(
  count: number,
  each: (i: number) => { members?: GroupMemberObservation[]; state?: string; stale?: boolean; lags?: number[] }
): Observation[] {
  return Array.from({ length: count }, (_, i) => {
    const t = each(i)
    const lags = t.lags ?? [0, 0]
    return observationOf(
      T0 + i * 5000,
      lags.map((lag, p) =>
        partitionObservation(p, lag, { committedOffset: 1000 + i * 10, logEndOffset: 1000 + i * 10 + lag })
      ),
      {
        members: t.members ?? [],
        groupState: t.state ?? (t.members?.length ? 'Stable' : 'Empty'),
        stale: t.stale ?? false
      }
    )
  })
}

const assess = (history: Observation[], over: Partial<HealthInput> = {}) =>
  assessHealth({ history, running: 4, expectedMembers: expected([1, 2, 3, 4]), options: OPTIONS, ...over })

test('missing: named once they have been out of the group for the grace, not before', () => {
  const all = [member(1, [0]), member(2, [1]), member(3), member(4)]
  // Ticks 0-1 all four in; from tick 2 (T0+10 s) only 1 and 2. Tick 11 is 45 s after tick 2.
  const history = ticks(12, (i) => ({ members: i < 2 ? all : all.slice(0, 2) }))
  const early = assess(history.slice(0, 11))
  assert.equal(early.missing, undefined, '40 s out: still within the grace (a join or a rebalance)')
  assert.deepEqual(early.problems, [])
  const late = assess(history)
  assert.deepEqual(late.missing, {
    count: 2,
    running: 4,
    clientIds: ['lagscale-worker-3', 'lagscale-worker-4'],
    forMs: 45_000
  })
  assert.deepEqual(late.problems, [
    '2 of 4 consumers are not in the group for 45 s (lagscale-worker-3, lagscale-worker-4)'
  ])
})

test('missing: a worker started recently is given its own grace, whatever came before', () => {
  const history = ticks(20, () => ({ members: [member(1, [0, 1])] }))
  // worker-2 was spawned 20 s before the newest observation: not yet missing, though absent all along.
  const h = assess(history, {
    running: 2,
    expectedMembers: [...expected([1]), { clientId: 'lagscale-worker-2', since: history.at(-1)!.at - 20_000 }]
  })
  assert.deepEqual(h.problems, [])
})

test('the incident: a broker outage (stale), then an empty group - the clock starts after the outage', () => {
  const all = [member(1, [0]), member(2, [1]), member(3), member(4)]
  // 0-3 all in; 4-9 stale (Kafka unreachable); from 10 the group is Empty and lag grows.
  const history = ticks(30, (i) =>
    i < 4 ? { members: all } : i < 10 ? { stale: true, members: all } : { lags: [100 + i * 10, 200 + i * 10] }
  )
  const during = assess(history.slice(0, 8))
  assert.equal(during.pending, 'the lag data is stale')
  assert.deepEqual(during.problems, [], 'an outage is not blamed on the consumers')
  // Tick 18 is 40 s after the first good observation (tick 10): within the grace.
  assert.deepEqual(assess(history.slice(0, 19)).problems, [])
  const after = assess(history.slice(0, 20))
  assert.equal(after.missing?.count, 4)
  assert.match(after.problems[0]!, /^4 of 4 consumers are not in the group for 45 s \(lagscale-worker-1, /)
})

test('a rebalance under way gives no verdict; rebalancing observations before it neither count nor reset', () => {
  const in1 = [member(1, [0, 1])]
  const history = ticks(13, (i) => ({ members: in1, state: i % 3 === 1 ? 'PreparingRebalance' : 'Stable' }))
  const rebalancing = assess(history.slice(0, 11), { running: 2, expectedMembers: expected([1, 2]) })
  assert.equal(rebalancing.pending, 'the group is rebalancing (PreparingRebalance)')
  assert.deepEqual(rebalancing.problems, [])
  const settled = assess(history, { running: 2, expectedMembers: expected([1, 2]) })
  assert.equal(settled.pending, undefined)
  assert.deepEqual(settled.missing?.clientIds, ['lagscale-worker-2'], 'absent through the rebalances')
  assert.equal(settled.missing?.forMs, 60_000)
})

test('a change by the autoscaler (scale, replacement) restarts the clocks', () => {
  const history = ticks(20, () => ({ members: [member(1, [0, 1])], lags: [50, 0] }))
  const stuck = history.map((o) => ({
    ...o,
    partitions: o.partitions.map((p) => (p.partition === 0 ? { ...p, committedOffset: 1000, lag: 50 } : p))
  }))
  const before = assess(stuck, { running: 2, expectedMembers: expected([1, 2]) })
  assert.equal(before.problems.length, 2, `missing and stalled: ${before.problems.join(' | ')}`)
  // A scale 30 s before the newest observation: 30 s of evidence is less than either window.
  const after = assess(stuck, {
    running: 2,
    expectedMembers: expected([1, 2]),
    lastChangeAt: stuck.at(-1)!.at - 30_000
  })
  assert.deepEqual(after.problems, [])
})

test('missing, counted (ECS: no client ids): members against the tasks running', () => {
  const history = ticks(14, (i) => ({ members: i < 2 ? [member(1), member(2), member(3)] : [member(1, [0, 1])] }))
  const h = assessHealth({ history, running: 3, options: OPTIONS })
  assert.deepEqual(h.missing, { count: 2, running: 3, forMs: 55_000 })
  assert.deepEqual(h.problems, ['2 of 3 consumers are not in the group for 55 s (group Stable, 1 member)'])
  assert.equal(assessHealth({ history, running: 1, options: OPTIONS }).missing, undefined, 'one runs, one is in')
  assert.deepEqual(
    assessHealth({ history, running: 0, options: OPTIONS }).problems,
    [],
    'nothing runs: nothing to miss'
  )
})

/** Partition 3 committed at 120, lag 40 -> 90 over 12 ticks of 5 s, owner worker-2; the others move. */
function stallHistory(count: number, owner: (i: number) => string | undefined = () => 'lagscale-worker-2') {
  return Array.from({ length: count }, (_, i) =>
    observationOf(
      T0 + i * 5000,
      [0, 1, 2, 3].map((p) =>
        p === 3
          ? partitionObservation(3, 40 + Math.round((50 * i) / 12), {
              committedOffset: 120,
              logEndOffset: 160 + Math.round((50 * i) / 12),
              ...(owner(i) ? { owner: owner(i) } : {})
            })
          : partitionObservation(p, 5, { committedOffset: 100 + i, logEndOffset: 105 + i, owner: 'lagscale-worker-1' })
      ),
      { members: [member(1, [0, 1, 2]), member(2, [3])] }
    )
  )
}

test('stalled (Burrow): committed offset stuck for the window while lag grows; named with its owner', () => {
  const input = { running: 2, expectedMembers: expected([1, 2]), options: OPTIONS }
  assert.deepEqual(assessHealth({ ...input, history: stallHistory(12) }).stalled, [], '55 s: within the window')
  const h = assessHealth({ ...input, history: stallHistory(13) })
  assert.deepEqual(h.stalled, [
    {
      topic: 'Topic_from_java',
      partition: 3,
      committedOffset: 120,
      forMs: 60_000,
      lagBefore: 40,
      lag: 90,
      owner: 'lagscale-worker-2'
    }
  ])
  assert.deepEqual(h.problems, [
    'partition 3 stalled: committed 120 for 60 s while lag grew 40 -> 90; owner lagscale-worker-2'
  ])
  // The partition changed hands within the window: the stall is real, but whose it is is not known.
  const moved = assessHealth({
    ...input,
    history: stallHistory(13, (i) => (i < 6 ? 'lagscale-worker-1' : 'lagscale-worker-2'))
  })
  assert.equal(moved.stalled.length, 1)
  assert.equal(moved.stalled[0]!.owner, undefined)
  assert.equal(moved.problems[0], 'partition 3 stalled: committed 120 for 60 s while lag grew 40 -> 90')
})

test('not stalled: a committed offset that moves, a partition without lag, stale data in the window', () => {
  const input = { running: 1, expectedMembers: expected([1]), options: OPTIONS }
  const moving = ticks(20, (i) => ({ members: [member(1, [0, 1])], lags: [500 + i, 500 + i] }))
  assert.deepEqual(assessHealth({ ...input, history: moving }).stalled, [], 'slow but committing')
  const idle = ticks(20, () => ({ members: [member(1, [0, 1])] })).map((o) => ({
    ...o,
    partitions: o.partitions.map((p) => ({ ...p, committedOffset: 1000, logEndOffset: 1000, lag: 0 }))
  }))
  assert.deepEqual(assessHealth({ ...input, history: idle }).stalled, [], 'caught up: nothing to commit')
  const outage = stallHistory(20).map((o, i) => (i === 10 ? { ...o, stale: true } : o))
  assert.deepEqual(
    assessHealth({ ...input, running: 2, expectedMembers: expected([1, 2]), history: outage }).stalled,
    [],
    '45 s since the stale observation: the window restarted there'
  )
})

test('many stalled partitions (nobody in the group): one sentence, with the lag summed', () => {
  const three = ticks(14, (i) => ({ lags: [10 + i, 20 + i] })).map((o) => ({
    ...o,
    partitions: [
      ...o.partitions.map((p) => ({ ...p, committedOffset: 1000 })),
      // Never committed on: lag from the earliest offset, and it does not move either.
      partitionObservation(2, 7, { committedOffset: undefined, lagFrom: 'earliest', logEndOffset: 7 })
    ]
  }))
  const h = assessHealth({ history: three, running: 4, options: OPTIONS })
  assert.deepEqual(
    h.stalled.map((s) => [s.partition, s.committedOffset, s.lagBefore, s.lag]),
    [
      [0, 1000, 10, 23],
      [1, 1000, 20, 33],
      [2, undefined, 7, 7]
    ]
  )
  assert.deepEqual(h.problems, [
    '4 of 4 consumers are not in the group for 65 s (group Empty, 0 members)',
    '3 partitions stalled (partitions 0, 1, 2): committed offsets unchanged for 65 s while their lag grew 37 -> 63'
  ])
})
