import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildDeadLetterHeaders, DLT_HEADERS } from '../../src/consumer/dead-letter.ts'
import type { WorkerRecord } from '../../src/consumer/record.ts'

const record = (headers: [string, string][] = []): WorkerRecord => ({
  topic: 'Topic_from_java',
  partition: 3,
  offset: 42n,
  timestamp: 1_700_000_000_123n,
  key: 'k',
  value: 'abc',
  keyBytes: Buffer.from('k'),
  valueBytes: Buffer.from('abc'),
  headers: new Map(headers.map(([k, v]) => [k, Buffer.from(v)]))
})

const text = (h: Map<string, Buffer>): Record<string, string> =>
  Object.fromEntries([...h].map(([k, v]) => [k, v.toString()]))

test('dead-letter headers say why and where the record came from, and keep the original headers', () => {
  const headers = buildDeadLetterHeaders(record([['trace-id', 't-1']]), {
    reason: 'value "abc" is not a decimal integer 0..3600',
    kind: 'poison',
    attempts: 1,
    group: 'group_id',
    now: 1_700_000_001_000
  })
  assert.deepEqual(text(headers), {
    'trace-id': 't-1',
    [DLT_HEADERS.reason]: 'value "abc" is not a decimal integer 0..3600',
    [DLT_HEADERS.kind]: 'poison',
    [DLT_HEADERS.attempts]: '1',
    [DLT_HEADERS.group]: 'group_id',
    [DLT_HEADERS.sourceTopic]: 'Topic_from_java',
    [DLT_HEADERS.sourcePartition]: '3',
    [DLT_HEADERS.sourceOffset]: '42',
    [DLT_HEADERS.sourceTimestamp]: '1700000000123',
    [DLT_HEADERS.time]: '1700000001000'
  })
})

test('a record dead-lettered again gets fresh lagscale.dlt.* headers, not stale ones', () => {
  const headers = buildDeadLetterHeaders(
    record([
      [DLT_HEADERS.reason, 'old'],
      [DLT_HEADERS.attempts, '9'],
      ['lagscale.dlt.custom', 'stale']
    ]),
    { reason: 'boom', kind: 'handler-error', attempts: 3, group: 'g', now: 1 }
  )
  assert.equal(headers.get(DLT_HEADERS.reason)?.toString(), 'boom')
  assert.equal(headers.get(DLT_HEADERS.attempts)?.toString(), '3')
  assert.equal(headers.has('lagscale.dlt.custom'), false)
})

test('long reasons are truncated', () => {
  const headers = buildDeadLetterHeaders(record(), {
    reason: 'x'.repeat(5000),
    kind: 'handler-error',
    attempts: 3,
    group: 'g',
    now: 1
  })
  assert.ok(headers.get(DLT_HEADERS.reason)!.length <= 1003)
})
