/**
 * Debian's chromium, driven by playwright-core, for the tests that use a real browser.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync'
]

/**
 * The little of the DOM that the functions run in the page use (this project compiles without
 * lib.dom). An ambient declaration cannot be imported, so a test declares its own with this type:
 * `declare const document: PageDocument`.
 */
export interface PageElement {
  textContent: string | null
  getAttribute(name: string): string | null
  getBoundingClientRect(): { right: number }
}
export interface PageDocument {
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): Iterable<PageElement>
  documentElement: { scrollWidth: number; clientWidth: number }
}

export interface LaunchedChromium {
  browser: Browser
  /** Closes the browser, and kills its processes if that did not end them. */
  close(): Promise<void>
}

/** Starts chromium headless; fails with what to install when /usr/bin/chromium does not run. */
export async function launchChromium(): Promise<LaunchedChromium> {
  const version = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' })
  if (version.status !== 0) {
    throw new Error(
      `this test drives Debian's chromium at ${CHROMIUM} (apt-get install chromium): ${version.error?.message ?? version.stderr}`
    )
  }
  // launchServer gives the browser's PID, so close() can kill it if closing the browser does not.
  // Playwright runs chromium with a fresh temporary profile (user-data-dir) and removes it on close.
  const server = await chromium.launchServer({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 })
  const pid = server.process().pid
  let browser: Browser | undefined
  const close = async (): Promise<void> => {
    await browser?.close().catch(() => {})
    await server.close().catch(() => {})
    if (pid === undefined) return
    try {
      process.kill(-pid, 'SIGKILL') // playwright starts chromium as a process group leader
    } catch {
      // already gone
    }
  }
  try {
    browser = await chromium.connect(server.wsEndpoint())
  } catch (err) {
    await close()
    throw err
  }
  return { browser, close }
}

/** A full-page screenshot, as `file` in a fresh folder under the temp dir, checked to be a non-empty PNG. */
export async function screenshotPng(page: Page, file: string): Promise<{ path: string; bytes: number }> {
  const path = join(mkdtempSync(join(tmpdir(), 'lagscale-browser-')), file)
  await page.screenshot({ path, fullPage: true })
  const png = readFileSync(path)
  assert.ok(png.length > 0, 'a non-empty screenshot')
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
  return { path, bytes: png.length }
}
