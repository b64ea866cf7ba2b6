import assert from 'node:assert/strict'
import { test } from 'node:test'
import { recordTimestampAtOrAfter } from '../../src/autoscaler/monitor.ts'
import { type ObservationInput, summarizeObservation } from '../../src/autoscaler/observation.ts'
import { formatAge, formatObservation } from '../../src/cli/commands/lag.ts'
import { parseDuration } from '../../src/cli/parse-duration.ts'

const base = (over: Partial<ObservationInput> = {}): ObservationInput => ({
  now: 100_000,
  group: 'g',
  topics: ['t'],
  groupState: 'Stable',
  members: [],
  partitions: [],
  resetPolicy: 'earliest',
  oldestTimestamps: new Map(),
  owners: new Map(),
  ...over
})

test('lag counts from the commit, or from the reset policy when there is none (and says which)', () => {
  const partitions = [
    { topic: 't', partition: 0, start: 0, end: 10, committed: 4 },
    { topic: 't', partition: 1, start: 2, end: 9 },
    { topic: 't', partition: 2, start: 5, end: 8, committed: 1 }
  ]
  const earliest = summarizeObservation(base({ partitions }))
  assert.deepEqual(
    earliest.partitions.map((p) => [p.lag, p.lagFrom]),
    [
      [6, 'committed'],
      [7, 'earliest'],
      // Committed below the log start (retention deleted records): only what can still be read.
      [3, 'committed']
    ]
  )
  assert.equal(earliest.sumOffsetLag, 16)
  assert.equal(earliest.maxOffsetLag, 7)
  const latest = summarizeObservation(base({ partitions, resetPolicy: 'latest' }))
  assert.deepEqual(
    latest.partitions.map((p) => [p.lag, p.lagFrom]),
    [
      [6, 'committed'],
      [0, 'latest'],
      [3, 'committed']
    ]
  )
  assert.equal(latest.sumOffsetLag, 9)
})

test('a commit past the log end is no negative lag', () => {
  const o = summarizeObservation(base({ partitions: [{ topic: 't', partition: 0, start: 0, end: 5, committed: 9 }] }))
  assert.equal(o.partitions[0]!.lag, 0)
})

test('rates come from the previous observation; time lag from the oldest record, 0 without lag', () => {
  const first = summarizeObservation(
    base({
      now: 10_000,
      partitions: [
        { topic: 't', partition: 0, start: 0, end: 100, committed: 40 },
        { topic: 't', partition: 1, start: 0, end: 50, committed: 50 }
      ]
    })
  )
  assert.equal(first.partitions[0]!.consumeRate, undefined, 'no rate from a single look')
  const second = summarizeObservation(
    base({
      now: 15_000,
      previous: first,
      partitions: [
        { topic: 't', partition: 0, start: 0, end: 120, committed: 60 },
        { topic: 't', partition: 1, start: 0, end: 50, committed: 50 }
      ],
      oldestTimestamps: new Map([
        ['t:0', 11_500],
        ['t:1', 1_000]
      ]),
      owners: new Map([['t:0', 'worker-1']])
    })
  )
  const [p0, p1] = second.partitions
  assert.equal(p0!.consumeRate, 4, '20 records in 5 s')
  assert.equal(p0!.produceRate, 4)
  assert.equal(p0!.timeLagMs, 3500)
  assert.equal(p0!.owner, 'worker-1')
  assert.equal(p1!.timeLagMs, 0, 'no lag: no time lag, whatever the timestamp')
  assert.equal(p1!.consumeRate, 0)
  assert.equal(second.maxTimeLagMs, 3500)
  assert.equal(p1!.owner, undefined)
})

test('partitions come out sorted by topic, then partition', () => {
  const o = summarizeObservation(
    base({
      topics: ['b', 'a'],
      partitions: [
        { topic: 'b', partition: 1, start: 0, end: 0 },
        { topic: 'a', partition: 2, start: 0, end: 0 },
        { topic: 'b', partition: 0, start: 0, end: 0 },
        { topic: 'a', partition: 10, start: 0, end: 0 }
      ]
    })
  )
  assert.deepEqual(
    o.partitions.map((p) => `${p.topic}-${p.partition}`),
    ['a-2', 'a-10', 'b-0', 'b-1']
  )
})

test('recordTimestampAtOrAfter finds the record at the offset inside a batch', () => {
  const batches = [
    {
      firstOffset: 10n,
      firstTimestamp: 1000n,
      records: [
        { offsetDelta: 0, timestampDelta: 0n },
        { offsetDelta: 1, timestampDelta: 5n },
        { offsetDelta: 3, timestampDelta: 9n }
      ]
    },
    { firstOffset: 14n, firstTimestamp: 2000n, records: [{ offsetDelta: 0, timestampDelta: 0n }] }
  ]
  assert.equal(recordTimestampAtOrAfter(batches, 11n), 1005)
  assert.equal(recordTimestampAtOrAfter(batches, 12n), 1009, 'compacted gap: the next record')
  assert.equal(recordTimestampAtOrAfter(batches, 14n), 2000)
  assert.equal(recordTimestampAtOrAfter(batches, 15n), undefined)
})

test('lag table: kafka-consumer-groups columns plus time lag, rates, origin of the lag and staleness', () => {
  const o = summarizeObservation(
    base({ partitions: [{ topic: 't', partition: 0, start: 0, end: 7 }], oldestTimestamps: new Map([['t:0', 88_000]]) })
  )
  const text = formatObservation(o)
  assert.match(text, /^TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +TIME-LAG/m)
  assert.match(text, /^t +0 +- +7 +7 \(earliest\) +12\.0s/m)
  assert.match(text, /SumOffsetLag: 7 {2}MaxOffsetLag: 7 {2}EstimatedMaxTimeLag: 12\.0s/)
  assert.doesNotMatch(text, /STALE/)
  assert.match(formatObservation({ ...o, stale: true, error: 'no answer' }), /STALE: no answer/)
  assert.equal(formatAge(125_000), '2m5s')
  assert.equal(formatAge(0), '0s')
})

test('durations: 500ms, 5s, 1.5m, bare ms; anything else is a usage error naming the flag', () => {
  assert.equal(parseDuration('500ms', '--x'), 500)
  assert.equal(parseDuration('5s', '--x'), 5000)
  assert.equal(parseDuration('1.5m', '--x'), 90_000)
  assert.equal(parseDuration('250', '--x'), 250)
  for (const bad of ['', '5 seconds', '-1s', 's', '1e3']) {
    assert.throws(() => parseDuration(bad, '--interval'), /--interval must be a duration/)
  }
})

test('key sampling: distinct keys from the offset on (keyless = one key); parallelism per partition by ordering', async () => {
  const { sampleAtOrAfter } = await import('../../src/autoscaler/monitor.ts')
  const { parallelismPerPartition } = await import('../../src/autoscaler/parallelism.ts')
  const k = (s: string | null) => (s === null ? null : Buffer.from(s))
  const batches = [
    {
      firstOffset: 0n,
      firstTimestamp: 500n,
      records: [
        { offsetDelta: 0, timestampDelta: 0n, key: k('a') },
        { offsetDelta: 1, timestampDelta: 1n, key: k('b') },
        { offsetDelta: 2, timestampDelta: 2n, key: k('b') },
        { offsetDelta: 3, timestampDelta: 3n, key: null },
        { offsetDelta: 4, timestampDelta: 4n, key: k('') }
      ]
    }
  ]
  assert.deepEqual(sampleAtOrAfter(batches, 1n), { timestamp: 501, keys: 2 }, 'b and the keyless one')
  assert.deepEqual(sampleAtOrAfter(batches, 0n), { timestamp: 500, keys: 3 })
  assert.deepEqual(sampleAtOrAfter(batches, 9n), { keys: 0 })

  const o = summarizeObservation(
    base({
      partitions: [
        { topic: 't', partition: 0, start: 0, end: 50, committed: 0 },
        { topic: 't', partition: 1, start: 0, end: 50, committed: 0 },
        { topic: 't', partition: 2, start: 0, end: 5, committed: 5 }
      ],
      sampledKeys: new Map([
        ['t:0', 12],
        ['t:1', 3],
        ['t:2', 1]
      ])
    })
  )
  assert.equal(o.partitions[2]!.sampledKeys, undefined, 'no lag, no key estimate')
  assert.equal(parallelismPerPartition({ concurrency: 8, ordering: 'partition' }, o), 1)
  assert.equal(parallelismPerPartition({ concurrency: 8, ordering: 'unordered' }, o), 8)
  assert.equal(parallelismPerPartition({ concurrency: 8, ordering: 'key' }, o), 3, 'the partition with the fewest keys')
  assert.equal(parallelismPerPartition({ concurrency: 2, ordering: 'key' }, o), 2, 'never above the concurrency')
  assert.equal(parallelismPerPartition({ concurrency: 8, ordering: 'key' }, undefined), 1, 'no sample yet: 1')
})
