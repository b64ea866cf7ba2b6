import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseWorkerLogLine } from '../../src/autoscaler/backends/worker-log.ts'

const worker = { id: 'worker-3', pid: 4242, state: 'running' as const, startedAt: 1000 }

test('a worker log line: its own time, the event and the record fields', () => {
  const line = JSON.stringify({
    level: 30,
    time: '2026-11-26T06:00:00.500Z',
    event: 'END',
    partition: 2,
    offset: '17',
    value: '4',
    msg: 'END'
  })
  assert.deepEqual(parseWorkerLogLine(worker, line, 99), {
    worker: 'worker-3',
    pid: 4242,
    spawnedAt: 1000,
    t: Date.parse('2026-11-26T06:00:00.500Z'),
    event: 'END',
    partition: 2,
    offset: 17,
    value: '4',
    level: 30,
    msg: 'END'
  })
})

test('no time: when it arrived; no event: an empty one; assignments and handoff waits', () => {
  const e = parseWorkerLogLine(worker, JSON.stringify({ partitions: [0, 5], generationId: 7, waitedMs: 120 }), 99)
  assert.deepEqual(e, {
    worker: 'worker-3',
    pid: 4242,
    spawnedAt: 1000,
    t: 99,
    event: '',
    partitions: [0, 5],
    generationId: 7,
    waitedMs: 120
  })
})

test('not a JSON object (a stack trace, a broken line): undefined', () => {
  assert.equal(parseWorkerLogLine(worker, '    at Object.<anonymous> (file.js:1:1)'), undefined)
  assert.equal(parseWorkerLogLine(worker, '{"event":"EN'), undefined)
})
