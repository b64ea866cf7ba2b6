import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, test } from 'node:test'
import { forEachMessage } from '../../src/kafka/message-loop.ts'

/** An object-mode stream with the consumer stream's close(); `items` then (optionally) stays open. */
function fakeStream(items: number[], { end = true } = {}): Readable & { close(): Promise<void>; closed: boolean } {
  let i = 0
  const stream = new Readable({
    objectMode: true,
    highWaterMark: 2,
    read() {
      if (i < items.length) this.push(items[i++])
      else if (end) this.push(null)
    }
  }) as Readable & { close(): Promise<void>; closed: boolean }
  stream.close = async () => {
    stream.destroy()
  }
  return stream
}

describe('forEachMessage', () => {
  test('delivers every message in order until the stream ends, then closes it', async () => {
    const seen: number[] = []
    const stream = fakeStream([1, 2, 3, 4, 5])
    const end = await forEachMessage<number>(stream, (m) => {
      seen.push(m)
      return undefined
    })
    assert.equal(end, 'ended', 'the stream ended by itself')
    assert.deepEqual(seen, [1, 2, 3, 4, 5])
    assert.equal(stream.destroyed, true)
  })

  test("'stop' ends the loop at once; no message after it is handled", async () => {
    const seen: number[] = []
    const stream = fakeStream([1, 2, 3, 4, 5], { end: false })
    const end = await forEachMessage<number>(stream, (m) => {
      seen.push(m)
      return m === 3 ? 'stop' : undefined
    })
    assert.equal(end, 'stopped')
    assert.deepEqual(seen, [1, 2, 3])
    assert.equal(stream.destroyed, true)
  })

  test('a returned promise pauses delivery until it settles', async () => {
    const seen: number[] = []
    let release: () => void = () => {}
    let handledWhilePaused = 0
    let paused = false
    const stream = fakeStream([1, 2, 3])
    const loop = forEachMessage<number>(stream, (m) => {
      if (paused) handledWhilePaused++
      seen.push(m)
      if (m === 1) {
        paused = true
        return new Promise<void>((resolve) => {
          release = () => {
            paused = false
            resolve()
          }
        })
      }
      return undefined
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(seen, [1], 'nothing else handled while the first promise is pending')
    release()
    await loop
    assert.deepEqual(seen, [1, 2, 3])
    assert.equal(handledWhilePaused, 0)
  })

  test('idleMs ends a loop that receives nothing more', async () => {
    const stream = fakeStream([1], { end: false })
    const started = Date.now()
    let count = 0
    const end = await forEachMessage<number>(
      stream,
      () => {
        count++
        return undefined
      },
      { idleMs: 100 }
    )
    assert.equal(end, 'idle')
    assert.equal(count, 1)
    assert.ok(Date.now() - started >= 95, 'waited for the idle period')
    assert.equal(stream.destroyed, true)
  })

  test('an abort signal ends the loop, also one aborted before it starts', async () => {
    const controller = new AbortController()
    const stream = fakeStream([], { end: false })
    const loop = forEachMessage<number>(stream, () => undefined, { signal: controller.signal })
    controller.abort()
    assert.equal(await loop, 'aborted')
    assert.equal(stream.destroyed, true)
    const already = fakeStream([1, 2], { end: false })
    let handled = 0
    await forEachMessage<number>(
      already,
      () => {
        handled++
        return undefined
      },
      { signal: AbortSignal.abort() }
    )
    assert.equal(handled, 0)
  })

  test('a handler error or a rejected promise rejects the loop and closes the stream', async () => {
    const a = fakeStream([1, 2, 3])
    await assert.rejects(
      forEachMessage<number>(a, (m) => {
        if (m === 2) throw new Error('bad record')
        return undefined
      }),
      /bad record/
    )
    assert.equal(a.destroyed, true)
    const b = fakeStream([1, 2, 3])
    await assert.rejects(
      forEachMessage<number>(b, () => Promise.reject(new Error('write failed'))),
      /write failed/
    )
  })

  test('a stream error rejects the loop', async () => {
    const stream = fakeStream([], { end: false })
    const loop = forEachMessage<number>(stream, () => undefined)
    stream.emit('error', new Error('broker gone'))
    await assert.rejects(loop, /broker gone/)
  })
})
