import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ASSIGNORS, assignPartitions, type TopicPartition } from '../../src/autoscaler/policy/assignors.ts'

const tps = (topic: string, n: number): TopicPartition[] =>
  Array.from({ length: n }, (_, partition) => ({ topic, partition }))

/** Compact view: consumer -> 'topic-partition' labels. */
const view = (assignment: TopicPartition[][]): string[][] =>
  assignment.map((l) => l.map((tp) => `${tp.topic}${tp.partition}`))

describe('assignPartitions', () => {
  test('roundrobin deals the sorted partitions in turn', () => {
    assert.deepEqual(view(assignPartitions(tps('t', 5), 2, 'roundrobin')), [
      ['t0', 't2', 't4'],
      ['t1', 't3']
    ])
  })

  test('roundrobin sorts by topic then partition, whatever the input order', () => {
    const input = [
      { topic: 'b', partition: 1 },
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 0 },
      { topic: 'a', partition: 1 }
    ]
    assert.deepEqual(view(assignPartitions(input, 3, 'roundrobin')), [['a0', 'b1'], ['a1'], ['b0']])
  })

  test('range gives contiguous ranges, the first partitions % consumers get one extra', () => {
    assert.deepEqual(view(assignPartitions(tps('t', 5), 2, 'range')), [
      ['t0', 't1', 't2'],
      ['t3', 't4']
    ])
    assert.deepEqual(view(assignPartitions(tps('t', 7), 3, 'range')), [
      ['t0', 't1', 't2'],
      ['t3', 't4'],
      ['t5', 't6']
    ])
  })

  test('range works per topic, so with several topics the low consumers get every extra', () => {
    const both = [...tps('a', 3), ...tps('b', 3)]
    assert.deepEqual(view(assignPartitions(both, 2, 'range')), [
      ['a0', 'a1', 'b0', 'b1'],
      ['a2', 'b2']
    ])
    assert.deepEqual(view(assignPartitions(both, 2, 'roundrobin')), [
      ['a0', 'a2', 'b1'],
      ['a1', 'b0', 'b2']
    ])
  })

  test('range with one partition per topic puts every topic on consumer 0', () => {
    const input = [...tps('a', 1), ...tps('b', 1)]
    assert.deepEqual(view(assignPartitions(input, 2, 'range')), [['a0', 'b0'], []])
    assert.deepEqual(view(assignPartitions(input, 2, 'roundrobin')), [['a0'], ['b0']])
  })

  test('cooperative-sticky from scratch is balanced like roundrobin', () => {
    const input = [...tps('a', 3), ...tps('b', 4)]
    for (const n of [1, 2, 3, 5, 9]) {
      assert.deepEqual(
        assignPartitions(input, n, 'cooperative-sticky'),
        assignPartitions(input, n, 'roundrobin'),
        `${n} consumers`
      )
    }
  })

  test('more consumers than partitions: the extra ones get nothing', () => {
    for (const assignor of ASSIGNORS) {
      const a = assignPartitions(tps('t', 2), 4, assignor)
      assert.deepEqual(
        a.map((l) => l.length),
        [1, 1, 0, 0],
        assignor
      )
    }
  })

  test('every partition goes to exactly one consumer; counts differ by at most 1 (roundrobin)', () => {
    const input = [...tps('x', 5), ...tps('y', 3), ...tps('z', 8)]
    for (const assignor of ASSIGNORS) {
      for (let n = 1; n <= 20; n++) {
        const a = assignPartitions(input, n, assignor)
        assert.equal(a.length, n)
        const all = a.flat().map((tp) => `${tp.topic}${tp.partition}`)
        assert.equal(new Set(all).size, input.length, `${assignor} ${n}: no duplicates`)
        assert.equal(all.length, input.length, `${assignor} ${n}: none missing`)
        if (assignor !== 'range') {
          const sizes = a.map((l) => l.length)
          assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${assignor} ${n}: ${sizes}`)
        }
      }
    }
  })

  test('duplicate partitions in the input are assigned once', () => {
    const input = [...tps('t', 2), { topic: 't', partition: 1 }]
    assert.deepEqual(view(assignPartitions(input, 1)), [['t0', 't1']])
  })

  test('0 consumers: no lists; a negative or fractional count is an error', () => {
    assert.deepEqual(assignPartitions(tps('t', 3), 0), [])
    assert.throws(() => assignPartitions(tps('t', 3), -1), RangeError)
    assert.throws(() => assignPartitions(tps('t', 3), 1.5), RangeError)
  })

  test('the default assignor is roundrobin', () => {
    const input = [...tps('a', 1), ...tps('b', 1)]
    assert.deepEqual(view(assignPartitions(input, 2)), [['a0'], ['b0']])
  })
})
