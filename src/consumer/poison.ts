/**
 * A record no retry can fix (a value the handler cannot parse). The worker sends it
 * to the dead-letter topic at once instead of retrying. User handlers may throw it
 * too, or any error with `poison: true` (a handler module need not import lagscale).
 */
export class PoisonRecordError extends Error {
  readonly poison = true

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PoisonRecordError'
  }
}

export function isPoison(err: unknown): boolean {
  return (
    err instanceof PoisonRecordError ||
    (typeof err === 'object' && err !== null && 'poison' in err && err.poison === true)
  )
}

/**
 * The seed's record value: a decimal integer 0..max, the work's length in units.
 * Returns the number, or throws PoisonRecordError saying why not. Pure.
 */
export function parseWorkUnits(value: string | null, max: number): number {
  if (value === null) throw new PoisonRecordError('value is null; expected a decimal integer')
  const text = value.trim()
  if (!/^\d{1,16}$/.test(text)) {
    throw new PoisonRecordError(`value ${JSON.stringify(truncate(value, 64))} is not a decimal integer 0..${max}`)
  }
  const units = Number(text)
  if (units > max) throw new PoisonRecordError(`value ${units} is larger than the maximum of ${max} work units`)
  return units
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`
}
