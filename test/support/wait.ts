/**
 * Polls `check` until it returns a value (not undefined/false) and returns it; fails after
 * `timeoutMs` naming `what`, plus `detail()` (e.g. progress so far) when given.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  options: { everyMs?: number; detail?: () => string } = {}
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) {
      const detail = options.detail ? `: ${options.detail()}` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`)
    }
    await new Promise((r) => setTimeout(r, options.everyMs ?? 100))
  }
}
