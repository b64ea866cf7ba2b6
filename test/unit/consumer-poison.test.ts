import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isPoison, PoisonRecordError, parseWorkUnits } from '../../src/consumer/poison.ts'

describe('parseWorkUnits (the seed value: a decimal integer 0..max)', () => {
  test('accepts decimal integers within range, trimmed', () => {
    assert.equal(parseWorkUnits('0', 10), 0)
    assert.equal(parseWorkUnits('7', 10), 7)
    assert.equal(parseWorkUnits(' 10\n', 10), 10)
    assert.equal(parseWorkUnits('007', 10), 7)
  })

  test('everything else is poison, with a reason', () => {
    const cases: [string | null, RegExp][] = [
      [null, /value is null/],
      ['', /"" is not a decimal integer 0\.\.10/],
      ['abc', /"abc" is not a decimal integer/],
      ['-1', /"-1" is not a decimal integer/],
      ['1.5', /"1.5" is not/],
      ['1e3', /"1e3" is not/],
      ['0x10', /"0x10" is not/],
      ['11', /11 is larger than the maximum of 10 work units/],
      ['99999999999999999999', /is not a decimal integer/]
    ]
    for (const [value, reason] of cases) {
      assert.throws(
        () => parseWorkUnits(value, 10),
        (err: unknown) => err instanceof PoisonRecordError && reason.test(err.message),
        String(value)
      )
    }
  })

  test('long values are truncated in the reason', () => {
    assert.throws(
      () => parseWorkUnits('x'.repeat(500), 10),
      (err: Error) => err.message.length < 120 && err.message.includes('...')
    )
  })

  test('isPoison: our class or any error marked poison: true', () => {
    assert.equal(isPoison(new PoisonRecordError('x')), true)
    assert.equal(isPoison(Object.assign(new Error('x'), { poison: true })), true)
    assert.equal(isPoison(new Error('x')), false)
    assert.equal(isPoison('poison'), false)
    assert.equal(isPoison(null), false)
  })
})
