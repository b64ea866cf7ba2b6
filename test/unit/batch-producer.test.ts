import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { BatchProducer, type RawMessage } from '../../src/kafka/batch-producer.ts'
import type { RawProducer } from '../../src/kafka/clients.ts'

interface FakeOptions {
  partitions?: number
  /** Milliseconds a send takes; varied per call so sends finish out of order. */
  delay?: (call: number) => number
  failOnCall?: number
}

/** Just the part of a Producer BatchProducer uses: metadata(), send(), currentMetadata. */
function fakeProducer(options: FakeOptions = {}) {
  const partitions = options.partitions ?? 6
  const written = new Map<number, number[]>()
  const inFlight = new Set<number>()
  let overlaps = 0
  let calls = 0
  let maxConcurrent = 0
  let concurrent = 0
  const metadata = { topics: new Map([['t', { partitionsCount: partitions }]]) }
  const producer = {
    currentMetadata: metadata,
    metadata(_options: unknown, callback: (error: Error | null, metadata: unknown) => void): void {
      setImmediate(() => callback(null, metadata))
    },
    send({ messages }: { messages: RawMessage[] }, callback: (error: Error | null, result?: unknown) => void): void {
      const call = ++calls
      const touched = new Set(messages.map((m) => m.partition!))
      for (const p of touched) {
        if (inFlight.has(p)) overlaps++
        inFlight.add(p)
      }
      concurrent++
      maxConcurrent = Math.max(maxConcurrent, concurrent)
      setTimeout(() => {
        concurrent--
        for (const p of touched) inFlight.delete(p)
        if (call === options.failOnCall) {
          callback(new Error('broker said no'))
          return
        }
        for (const m of messages) {
          const list = written.get(m.partition!) ?? []
          list.push(Number(m.value!.toString()))
          written.set(m.partition!, list)
        }
        callback(null, {})
      }, options.delay?.(call) ?? 1)
    }
  }
  return {
    producer: producer as unknown as RawProducer,
    written,
    stats: () => ({ calls, overlaps, maxConcurrent })
  }
}

const message = (i: number, key?: string): RawMessage => {
  const m: RawMessage = { topic: 't', value: Buffer.from(String(i)) }
  if (key !== undefined) m.key = Buffer.from(key)
  return m
}

describe('BatchProducer', () => {
  test('delivers every record, never two batches of one partition at once, in order per partition', async () => {
    const fake = fakeProducer({ delay: (call) => (call % 3) * 2 })
    const bp = new BatchProducer(fake.producer, { batchSize: 50, lanes: 3, maxPendingRecords: 400 })
    for (let i = 0; i < 5000; i++) if (!bp.write(message(i))) await bp.ready()
    await bp.flush()
    assert.equal(bp.stats.acknowledged, 5000)
    assert.equal(bp.pending, 0)
    assert.equal(fake.stats().overlaps, 0)
    assert.ok(fake.stats().maxConcurrent > 1, 'lanes send concurrently')
    let total = 0
    for (const values of fake.written.values()) {
      total += values.length
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b)
      )
    }
    assert.equal(total, 5000)
    assert.equal(fake.written.size, 6, 'keyless records spread over all partitions')
  })

  test('with several producers, each partition is only ever written by one of them', async () => {
    const fakes = [fakeProducer({ delay: () => 2 }), fakeProducer({ delay: () => 1 })]
    const bp = new BatchProducer(
      fakes.map((f) => f.producer),
      { batchSize: 100 }
    )
    for (let i = 0; i < 3000; i++) if (!bp.write(message(i))) await bp.ready()
    await bp.flush()
    const [a, b] = fakes.map((f) => new Set(f.written.keys()))
    assert.deepEqual([...a!].sort(), [0, 2, 4])
    assert.deepEqual([...b!].sort(), [1, 3, 5])
    assert.equal(bp.stats.acknowledged, 3000)
  })

  test('keyed records go to the Java partitioner partition, explicit partitions are kept', async () => {
    const fake = fakeProducer({ partitions: 12 })
    const bp = new BatchProducer(fake.producer)
    const keyed = message(1, 'user-42')
    const pinned = { ...message(2), partition: 7 }
    bp.write(keyed)
    bp.write(pinned)
    await bp.flush()
    // Utils.toPositive(murmur2("user-42")) % 12 = 4 (see partitioner.test.ts)
    assert.equal(keyed.partition, 4)
    assert.equal(pinned.partition, 7)
  })

  test('write() asks the caller to wait once maxPendingRecords are outstanding', async () => {
    const fake = fakeProducer({ delay: () => 5 })
    const bp = new BatchProducer(fake.producer, { batchSize: 10, lanes: 1, maxPendingRecords: 25 })
    let accepted = 0
    while (bp.write(message(accepted))) accepted++
    assert.equal(bp.pending, 25)
    await bp.ready()
    assert.ok(bp.pending < 25)
    await bp.flush()
    assert.equal(bp.stats.acknowledged, 25)
  })

  test('a lingering partial batch goes out after lingerMs', async () => {
    const fake = fakeProducer()
    const acked: number[] = []
    const bp = new BatchProducer(fake.producer, { batchSize: 1000, lingerMs: 5, onAcknowledged: (n) => acked.push(n) })
    bp.write(message(1))
    await sleep(60)
    assert.deepEqual(acked, [1])
  })

  test('a failed send rejects ready() and flush(), and later writes throw', async () => {
    const fake = fakeProducer({ failOnCall: 2 })
    const bp = new BatchProducer(fake.producer, { batchSize: 10, lanes: 1, maxPendingRecords: 1000 })
    for (let i = 0; i < 100; i++) bp.write(message(i))
    await assert.rejects(bp.flush(), /broker said no/)
    assert.throws(() => bp.write(message(1)), /broker said no/)
    await assert.rejects(bp.ready(), /broker said no/)
    assert.ok(bp.stats.acknowledged < 100)
  })
})
