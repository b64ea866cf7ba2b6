import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { UserError } from '../../src/errors.ts'
import {
  formatTopicDescription,
  kafkaUuid,
  parseConfigPairs,
  parsePositiveInt,
  validateTopicName
} from '../../src/kafka/topics.ts'

const usageError = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof UserError)
  assert.equal(err.exitCode, 2)
  assert.match(err.message, pattern)
  return true
}

describe('validateTopicName', () => {
  test('accepts letters, digits, dot, underscore and dash', () => {
    for (const name of ['orders', 'Orders.v2', 'a_b-c', '__consumer_offsets', '0', '...', 'a'.repeat(249)]) {
      assert.equal(validateTopicName(name), name)
    }
  })

  test('missing or empty is required', () => {
    assert.throws(() => validateTopicName(undefined), usageError(/--topic is required/))
    assert.throws(() => validateTopicName(''), usageError(/--topic is required/))
  })

  test('"." and ".." are not topic names', () => {
    assert.throws(() => validateTopicName('.'), usageError(/cannot be "\."/))
    assert.throws(() => validateTopicName('..'), usageError(/cannot be "\.\."/))
  })

  test('at most 249 characters', () => {
    assert.throws(() => validateTopicName('a'.repeat(250)), usageError(/longer than 249/))
  })

  test('other characters are refused', () => {
    for (const name of ['my topic', 'a/b', 'a:b', 'é', 'tab\t', 'a*', 'a,b']) {
      assert.throws(() => validateTopicName(name), usageError(/is invalid/), JSON.stringify(name))
    }
  })
})

describe('parsePositiveInt', () => {
  test('positive integers', () => {
    assert.equal(parsePositiveInt('--partitions', '1'), 1)
    assert.equal(parsePositiveInt('--partitions', '12'), 12)
    assert.equal(parsePositiveInt('--partitions', '007'), 7)
    assert.equal(parsePositiveInt('--partitions', ' 3 '), 3)
    assert.equal(parsePositiveInt('--x', String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER)
  })

  test('missing is required, naming the flag', () => {
    assert.throws(() => parsePositiveInt('--partitions', undefined), usageError(/^--partitions is required$/))
  })

  test('zero, negatives, fractions, exponents, hex, junk and unsafe integers are refused', () => {
    for (const value of ['0', '-1', '1.5', '1e3', '0x10', 'abc', '', ' ', '3abc', '+3', '9007199254740993']) {
      assert.throws(
        () => parsePositiveInt('--partitions', value),
        usageError(/^--partitions must be a positive integer; got /),
        JSON.stringify(value)
      )
    }
  })
})

describe('parseConfigPairs', () => {
  test('key=value pairs in order', () => {
    assert.deepEqual(parseConfigPairs(['retention.ms=3600000', 'cleanup.policy=compact,delete']), [
      { name: 'retention.ms', value: '3600000' },
      { name: 'cleanup.policy', value: 'compact,delete' }
    ])
  })

  test('splits at the first =', () => {
    assert.deepEqual(parseConfigPairs(['a=b=c']), [{ name: 'a', value: 'b=c' }])
  })

  test('whitespace around name and value is trimmed, as kafka-topics does', () => {
    assert.deepEqual(parseConfigPairs([' retention.ms = 1000 ']), [{ name: 'retention.ms', value: '1000' }])
  })

  test('an empty value is kept', () => {
    assert.deepEqual(parseConfigPairs(['a=']), [{ name: 'a', value: '' }])
  })

  test('no pairs, no configs', () => {
    assert.deepEqual(parseConfigPairs([]), [])
  })

  test('a pair without = or without a name is a usage error', () => {
    for (const pair of ['retention.ms', '=1000', ' =1000', '']) {
      assert.throws(() => parseConfigPairs([pair]), usageError(/--config expects key=value/), JSON.stringify(pair))
    }
  })
})

describe('kafkaUuid', () => {
  // Produced with Kafka 4.1.1: new org.apache.kafka.common.Uuid(msb, lsb).toString() for these 16 bytes.
  const JAVA_UUIDS: [string, string][] = [
    ['0123456789abcdef-fedcba9876543210', 'ASNFZ4mrze_-3LqYdlQyEA'],
    ['00000000000000000000000000000001', 'AAAAAAAAAAAAAAAAAAAAAQ'],
    ['ffffffffffffffffffffffffffffffff', '_____________________w'],
    ['6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'a6e4EJ2tEdGAtADAT9QwyA']
  ]

  for (const [hex, java] of JAVA_UUIDS) {
    test(`${hex} prints as ${java}, like Kafka`, () => {
      assert.equal(kafkaUuid(hex), java)
    })
  }

  test('dashed and plain hex, any case, give the same id', () => {
    assert.equal(kafkaUuid('6BA7B810-9DAD-11D1-80B4-00C04FD430C8'), 'a6e4EJ2tEdGAtADAT9QwyA')
    assert.equal(kafkaUuid('6ba7b8109dad11d180b400c04fd430c8'), 'a6e4EJ2tEdGAtADAT9QwyA')
  })

  test('22 URL-safe base64 characters that decode back to the 16 bytes', () => {
    const id = kafkaUuid('0123456789abcdeffedcba9876543210')
    assert.match(id, /^[A-Za-z0-9_-]{22}$/)
    assert.equal(Buffer.from(id, 'base64url').toString('hex'), '0123456789abcdeffedcba9876543210')
  })

  test('anything that is not 32 hex digits is returned unchanged', () => {
    for (const id of ['', 'ASNFZ4mrze_-3LqYdlQyEA', '0123', 'zz23456789abcdeffedcba9876543210']) {
      assert.equal(kafkaUuid(id), id)
    }
  })
})

describe('formatTopicDescription', () => {
  test('kafka-topics --describe layout', () => {
    const text = formatTopicDescription({
      topic: 'orders',
      topicId: 'ASNFZ4mrze_-3LqYdlQyEA',
      partitionCount: 2,
      replicationFactor: 1,
      configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' },
      partitions: [
        { partition: 0, leader: 1, replicas: [1], isr: [1] },
        { partition: 1, leader: 1, replicas: [1, 2], isr: [2, 1] }
      ]
    })
    assert.equal(
      text,
      [
        'Topic: orders\tTopicId: ASNFZ4mrze_-3LqYdlQyEA\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention.ms=3600000,cleanup.policy=compact',
        '\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1',
        '\tTopic: orders\tPartition: 1\tLeader: 1\tReplicas: 1,2\tIsr: 2,1'
      ].join('\n')
    )
  })
})
