import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type PartitionLag, type PartitionOffsets, partitionLag, summarizeLag } from '../../src/kafka/lag.ts'

const p = (fields: Partial<PartitionOffsets> = {}): PartitionOffsets => ({
  topic: 'orders',
  partition: 0,
  logEndOffset: 100n,
  ...fields
})

describe('partitionLag', () => {
  test('lag is the log-end offset minus the committed offset', () => {
    assert.equal(partitionLag(p({ committedOffset: 42n })).lag, 58n)
  })

  test('a group that caught up has lag 0', () => {
    assert.equal(partitionLag(p({ committedOffset: 100n })).lag, 0n)
  })

  test('the committed offset wins over the reset policy', () => {
    for (const policy of ['earliest', 'latest', 'none'] as const) {
      assert.equal(partitionLag(p({ committedOffset: 90n, logStartOffset: 50n }), policy).lag, 10n, policy)
    }
  })

  test('a committed offset of 0 is an offset, not a missing one', () => {
    assert.equal(partitionLag(p({ committedOffset: 0n }), 'latest').lag, 100n)
  })

  test('a committed offset past the log end is lag 0, not negative', () => {
    assert.equal(partitionLag(p({ committedOffset: 150n })).lag, 0n)
  })

  test('a committed offset before the log start still counts from the committed offset (kafka-consumer-groups)', () => {
    assert.equal(partitionLag(p({ committedOffset: 10n, logStartOffset: 60n })).lag, 90n)
  })

  test('no committed offset and policy none (the default): lag unknown', () => {
    const lag = partitionLag(p({ logStartOffset: 20n }))
    assert.equal(lag.lag, undefined)
    assert.ok(!('lag' in lag))
    assert.equal(partitionLag(p(), 'none').lag, undefined)
  })

  test('no committed offset, earliest: the group would read from the log start', () => {
    assert.equal(partitionLag(p({ logStartOffset: 20n }), 'earliest').lag, 80n)
  })

  test('no committed offset, earliest, log start unknown: from offset 0', () => {
    assert.equal(partitionLag(p(), 'earliest').lag, 100n)
  })

  test('no committed offset, latest: the group would start at the end, lag 0', () => {
    assert.equal(partitionLag(p({ logStartOffset: 20n }), 'latest').lag, 0n)
  })

  test('an empty partition has lag 0 under every policy', () => {
    const empty = p({ logEndOffset: 0n, logStartOffset: 0n })
    assert.equal(partitionLag(empty, 'earliest').lag, 0n)
    assert.equal(partitionLag(empty, 'latest').lag, 0n)
    assert.equal(partitionLag({ ...empty, committedOffset: 0n }).lag, 0n)
  })

  test('offsets past 2^53 keep exact bigint precision', () => {
    const lag = partitionLag(p({ logEndOffset: 2n ** 62n + 7n, committedOffset: 2n ** 62n }))
    assert.equal(lag.lag, 7n)
  })

  test('keeps the partition fields and does not change its input', () => {
    const input = p({ partition: 3, committedOffset: 40n, logStartOffset: 5n })
    const copy = { ...input }
    assert.deepEqual(partitionLag(input), { ...copy, lag: 60n })
    assert.deepEqual(input, copy)
  })
})

describe('summarizeLag (MSK SumOffsetLag / MaxOffsetLag)', () => {
  const lag = (value: bigint | undefined, partition = 0): PartitionLag => ({
    topic: 't',
    partition,
    logEndOffset: 1000n,
    ...(value === undefined ? {} : { lag: value })
  })

  test('sums and maxes the known lags, counts partitions with lag and unknown ones', () => {
    assert.deepEqual(summarizeLag([lag(5n, 0), lag(0n, 1), lag(12n, 2), lag(undefined, 3), lag(3n, 4)]), {
      sumOffsetLag: 20n,
      maxOffsetLag: 12n,
      partitionsWithLag: 3,
      partitionsUnknown: 1
    })
  })

  test('no partitions: all zero', () => {
    assert.deepEqual(summarizeLag([]), {
      sumOffsetLag: 0n,
      maxOffsetLag: 0n,
      partitionsWithLag: 0,
      partitionsUnknown: 0
    })
  })

  test('only unknown lags: sum and max 0, all unknown', () => {
    assert.deepEqual(summarizeLag([lag(undefined), lag(undefined, 1)]), {
      sumOffsetLag: 0n,
      maxOffsetLag: 0n,
      partitionsWithLag: 0,
      partitionsUnknown: 2
    })
  })

  test('from partitionLag over a group, policy earliest', () => {
    const rows = [
      p({ partition: 0, committedOffset: 90n }),
      p({ partition: 1, logEndOffset: 30n, logStartOffset: 10n }),
      p({ partition: 2, committedOffset: 120n })
    ].map((x) => partitionLag(x, 'earliest'))
    assert.deepEqual(summarizeLag(rows), {
      sumOffsetLag: 30n,
      maxOffsetLag: 20n,
      partitionsWithLag: 2,
      partitionsUnknown: 0
    })
  })
})
