/** Prints a step's latest status at most once a second, so a long run shows it is alive. */
export class Ticker {
  readonly #label: string
  readonly #started = performance.now()
  #status = 'starting'
  #timer: NodeJS.Timeout | undefined

  constructor(label: string) {
    this.#label = label
    this.#timer = setInterval(() => this.#print(), 1000)
  }

  set(status: string): void {
    this.#status = status
  }

  stop(final?: string): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    if (final) log(`${this.#label} ${final}`)
  }

  #print(): void {
    const elapsed = ((performance.now() - this.#started) / 1000).toFixed(0)
    log(`${this.#label} ${elapsed.padStart(3)} s  ${this.#status}`)
  }
}

export function log(message: string): void {
  process.stdout.write(`${message}\n`)
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

export function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits)
}

export function rateLine(records: number, ms: number, total?: number): string {
  const rate = ms > 0 ? (records * 1000) / ms : 0
  const of = total === undefined ? '' : ` / ${fmtInt(total)}`
  return `${fmtInt(records)}${of} records, ${fmtInt(rate)} rec/s`
}
