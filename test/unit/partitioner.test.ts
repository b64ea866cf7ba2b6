import assert from 'node:assert/strict'
import { describe, mock, test } from 'node:test'
import type { MessageToProduce } from '@platformatic/kafka'
import { javaCompatiblePartitioner } from '../../src/kafka/partitioner.ts'

type Message = MessageToProduce<Buffer, Buffer, string, Buffer>

const PARTITION_COUNTS = [1, 2, 3, 5, 7, 12, 16, 100, 1000]

/**
 * [key, Utils.murmur2(key), partition for each of PARTITION_COUNTS]. Produced with Kafka 4.1.1's
 * kafka-clients jar: a throwaway Java program printed Utils.murmur2(keyBytes) and
 * Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions (what Java's default partitioner,
 * BuiltInPartitioner.partitionForKey, computes) for the UTF-8 bytes of each key.
 */
const JAVA_VECTORS: [string | Buffer, number, number[]][] = [
  ['', 275646681, [0, 1, 0, 1, 2, 9, 9, 81, 681]],
  ['a', -1563381124, [0, 0, 1, 4, 5, 4, 12, 24, 524]],
  ['ab', 316155434, [0, 0, 2, 4, 0, 2, 10, 34, 434]],
  ['abc', 479470107, [0, 1, 0, 2, 4, 3, 11, 7, 107]],
  ['abcd', -1323649548, [0, 0, 2, 0, 5, 8, 4, 0, 100]],
  ['abcde', 461995741, [0, 1, 1, 1, 4, 1, 13, 41, 741]],
  ['key-1', 193331640, [0, 0, 0, 0, 5, 0, 8, 40, 640]],
  ['key-2', 852269702, [0, 0, 2, 2, 4, 2, 6, 2, 702]],
  ['user-42', 1459644460, [0, 0, 1, 0, 1, 4, 12, 60, 460]],
  ['order-123456', 1270227772, [0, 0, 1, 2, 2, 4, 12, 72, 772]],
  ['é', 186971271, [0, 1, 0, 1, 4, 3, 7, 71, 271]],
  ['日本語', 1431860170, [0, 0, 1, 0, 6, 10, 10, 70, 170]],
  ['🎉', 2031907914, [0, 0, 0, 4, 1, 6, 10, 14, 914]],
  ['The quick brown fox jumps over the lazy dog', 495243318, [0, 0, 0, 3, 3, 6, 6, 18, 318]],
  [Buffer.from('ff0080', 'hex'), -970489390, [0, 0, 1, 3, 6, 10, 2, 58, 258]],
  [Buffer.from('00000000', 'hex'), 850957120, [0, 0, 1, 0, 6, 4, 0, 20, 120]],
  [Buffer.from('deadbeef01', 'hex'), -306773845, [0, 1, 1, 3, 2, 7, 11, 3, 803]]
]

describe('javaCompatiblePartitioner', () => {
  for (const [key, murmur2, partitions] of JAVA_VECTORS) {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
    const label = typeof key === 'string' ? JSON.stringify(key) : `0x${key.toString('hex')}`
    test(`key ${label} lands where Java's default partitioner puts it`, () => {
      const partitioner = javaCompatiblePartitioner<Buffer, Buffer, string, Buffer>()
      const raw = partitioner({ topic: 't', key: bytes } as Message, bytes)
      assert.ok(Number.isInteger(raw) && raw >= 0, 'a non-negative integer')
      assert.equal(raw, murmur2 & 0x7fffffff, 'Utils.toPositive(Utils.murmur2(key))')
      // @platformatic/kafka reduces the returned number modulo the partition count.
      assert.deepEqual(
        PARTITION_COUNTS.map((n) => raw % n),
        partitions
      )
    })
  }

  test('a keyed record goes to the same partition every time, whatever the topic and other records', () => {
    const partitioner = javaCompatiblePartitioner<Buffer, Buffer, string, Buffer>()
    const key = Buffer.from('user-42')
    const first = partitioner({ topic: 'a' } as Message, key)
    for (let i = 0; i < 5; i++) {
      partitioner({ topic: 'a' } as Message, undefined)
      assert.equal(partitioner({ topic: i % 2 ? 'a' : 'b' } as Message, key), first)
    }
  })

  test('keyless records rotate over all partitions (round robin)', () => {
    const partitioner = javaCompatiblePartitioner<Buffer, Buffer, string, Buffer>()
    const raw = Array.from({ length: 60 }, () => partitioner({ topic: 'jobs' } as Message, undefined))
    for (let i = 1; i < raw.length; i++) assert.equal(raw[i], (raw[i - 1] ?? 0) + 1, 'consecutive numbers')
    for (const n of [1, 3, 4, 6, 12]) {
      const counts = new Array<number>(n).fill(0)
      for (const r of raw) counts[r % n] = (counts[r % n] ?? 0) + 1
      assert.deepEqual(counts, new Array(n).fill(60 / n), `${n} partitions get an equal share`)
    }
  })

  test('each topic has its own rotation', () => {
    const partitioner = javaCompatiblePartitioner<Buffer, Buffer, string, Buffer>()
    const a: number[] = []
    const b: number[] = []
    for (let i = 0; i < 6; i++) {
      a.push(partitioner({ topic: 'a' } as Message, undefined))
      b.push(partitioner({ topic: 'b' } as Message, undefined))
      b.push(partitioner({ topic: 'b' } as Message, undefined))
    }
    for (const seq of [a, b]) {
      for (let i = 1; i < seq.length; i++) assert.equal(seq[i], (seq[i - 1] ?? 0) + 1)
    }
  })

  test('the rotation starts at a random point, so producers do not all pile onto partition 0', () => {
    const random = mock.method(Math, 'random', () => 0.5)
    try {
      const partitioner = javaCompatiblePartitioner<Buffer, Buffer, string, Buffer>()
      assert.equal(partitioner({ topic: 't' } as Message, undefined), 512)
      assert.equal(partitioner({ topic: 't' } as Message, undefined), 513)
      assert.equal(random.mock.callCount(), 1)
    } finally {
      random.mock.restore()
    }
  })

  test('an empty key is a key (Java hashes empty bytes too), not a keyless record', () => {
    const partitioner = javaCompatiblePartitioner<Buffer, Buffer, string, Buffer>()
    const empty = Buffer.alloc(0)
    const results = new Set(Array.from({ length: 5 }, () => partitioner({ topic: 't', key: empty } as Message, empty)))
    assert.deepEqual([...results], [275646681])
  })
})
