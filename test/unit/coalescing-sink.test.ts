import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RawMessage } from '../../src/kafka/batch-producer.ts'
import { coalescingSink, splitOffsets } from '../../src/producer/coalescing-sink.ts'
import type { PartitionOffset, RecordSink } from '../../src/producer/kafka-sink.ts'

/**
 * A stand-in for the producer: it records each produce request and answers when the test
 * says so, as a broker would: per partition, the offset where that request's records begin.
 */
function fakeInner() {
  const logEnd = new Map<number, bigint>()
  const requests: { messages: RawMessage[]; answer: (err?: Error) => void }[] = []
  let closed = false
  const sink: RecordSink = {
    partitionCount: async () => 4,
    probe: async () => {},
    send: (messages) =>
      new Promise<PartitionOffset[]>((resolve, reject) => {
        requests.push({
          messages,
          answer: (err) => {
            if (err) return reject(err)
            const offsets: PartitionOffset[] = []
            for (const m of messages) {
              const p = m.partition!
              if (!offsets.some((o) => o.partition === p))
                offsets.push({ partition: p, baseOffset: logEnd.get(p) ?? 0n })
              logEnd.set(p, (logEnd.get(p) ?? 0n) + 1n)
            }
            resolve(offsets)
          }
        })
      }),
    close: async () => {
      closed = true
    }
  }
  return { sink, requests, isClosed: () => closed }
}

const records = (tag: string, partitions: number[]): RawMessage[] =>
  partitions.map((partition, i) => ({ topic: 't', partition, value: Buffer.from(`${tag}${i}`) }))

const values = (messages: RawMessage[]) => messages.map((m) => m.value!.toString())

/** Lets the sink's promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

test('a send with nothing in flight goes out at once, alone', async () => {
  const inner = fakeInner()
  const sink = coalescingSink(inner.sink, { maxRecords: 100 })
  const a = sink.send(records('a', [0, 1]))
  assert.equal(inner.requests.length, 1, 'no linger')
  assert.deepEqual(values(inner.requests[0]!.messages), ['a0', 'a1'])
  inner.requests[0]!.answer()
  assert.deepEqual(await a, [
    { partition: 0, baseOffset: 0n },
    { partition: 1, baseOffset: 0n }
  ])
})

test('sends that arrive while one is in flight go together, in order, each with its own offsets', async () => {
  const inner = fakeInner()
  const sink = coalescingSink(inner.sink, { maxRecords: 100 })
  const first = sink.send(records('a', [0, 1]))
  const b = sink.send(records('b', [0, 0, 2]))
  const c = sink.send(records('c', [1]))
  const d = sink.send(records('d', [0, 2]))
  assert.equal(inner.requests.length, 1, 'the others wait for the one in flight')
  inner.requests[0]!.answer()
  await first
  await settle()
  assert.equal(inner.requests.length, 2, 'b, c and d in one produce request')
  assert.deepEqual(values(inner.requests[1]!.messages), ['b0', 'b1', 'b2', 'c0', 'd0', 'd1'])
  inner.requests[1]!.answer()
  // Partition 0 held a0 (offset 0); the request appends b0 b1 d0 at 1, 2, 3.
  assert.deepEqual(await b, [
    { partition: 0, baseOffset: 1n },
    { partition: 2, baseOffset: 0n }
  ])
  assert.deepEqual(await c, [{ partition: 1, baseOffset: 1n }])
  assert.deepEqual(await d, [
    { partition: 0, baseOffset: 3n },
    { partition: 2, baseOffset: 1n }
  ])
})

test('a combined request holds at most maxRecords, and never splits a send', async () => {
  const inner = fakeInner()
  const sink = coalescingSink(inner.sink, { maxRecords: 5 })
  const sends = [
    sink.send(records('a', [0])),
    sink.send(records('b', [0, 1, 2])),
    sink.send(records('c', [0, 1])),
    sink.send(records('d', [3, 3, 3, 3, 3, 3, 3])),
    sink.send(records('e', [1]))
  ]
  const sizes: number[] = []
  for (let i = 0; i < 10 && sizes.length < 4; i++) {
    await settle()
    const r = inner.requests[sizes.length]
    if (!r) continue
    sizes.push(r.messages.length)
    r.answer()
  }
  // a alone (nothing in flight); b + c = 5; d (7 > 5) alone and whole; e.
  assert.deepEqual(sizes, [1, 5, 7, 1])
  await Promise.all(sends)
})

test('a failed produce request fails the sends in it, and no others', async () => {
  const inner = fakeInner()
  const sink = coalescingSink(inner.sink, { maxRecords: 100 })
  const a = sink.send(records('a', [0]))
  const b = sink.send(records('b', [1]))
  const c = sink.send(records('c', [2]))
  inner.requests[0]!.answer()
  await a
  await settle()
  inner.requests[1]!.answer(new Error('NOT_ENOUGH_REPLICAS'))
  await assert.rejects(b, /NOT_ENOUGH_REPLICAS/)
  await assert.rejects(c, /NOT_ENOUGH_REPLICAS/)
  const d = sink.send(records('d', [3]))
  assert.equal(inner.requests.length, 3, 'the next send goes out again')
  inner.requests[2]!.answer()
  assert.deepEqual(await d, [{ partition: 3, baseOffset: 0n }])
})

test('a producer that throws instead of rejecting fails that send; the queue goes on', {
  timeout: 10_000
}, async () => {
  const inner = fakeInner()
  const send = inner.sink.send
  let calls = 0
  inner.sink.send = (messages) => {
    if (++calls === 2) throw new Error('thrown, not rejected')
    return send(messages)
  }
  const sink = coalescingSink(inner.sink, { maxRecords: 100 })
  const a = sink.send(records('a', [0]))
  const b = sink.send(records('b', [0]))
  inner.requests[0]!.answer()
  await a
  await assert.rejects(b, /thrown, not rejected/)
  const c = sink.send(records('c', [0]))
  inner.requests[1]!.answer()
  assert.deepEqual(await c, [{ partition: 0, baseOffset: 1n }])
})

test('close waits for every queued send before it closes the producer', async () => {
  const inner = fakeInner()
  const sink = coalescingSink(inner.sink, { maxRecords: 100 })
  const a = sink.send(records('a', [0]))
  const b = sink.send(records('b', [0]))
  let closed = false
  const closing = sink.close().then(() => {
    closed = true
  })
  inner.requests[0]!.answer()
  await a
  await settle()
  assert.equal(closed, false, 'b still queued')
  inner.requests[1]!.answer()
  await b
  await closing
  assert.ok(inner.isClosed())
})

test('splitOffsets: per partition, the base plus the records of earlier sends', () => {
  const shares = splitOffsets(
    [records('a', [0, 0]), records('b', [1]), records('c', [0, 1])],
    [
      { partition: 0, baseOffset: 10n },
      { partition: 1, baseOffset: 20n }
    ]
  )
  assert.deepEqual(shares, [
    [{ partition: 0, baseOffset: 10n }],
    [{ partition: 1, baseOffset: 20n }],
    [
      { partition: 0, baseOffset: 12n },
      { partition: 1, baseOffset: 21n }
    ]
  ])
  assert.throws(() => splitOffsets([[{ topic: 't', value: Buffer.from('x') }]], []), /without a partition/)
  assert.throws(() => coalescingSink(fakeInner().sink, { maxRecords: 0 }), /maxRecords must be an integer >= 1; got 0/)
})
