/**
 * A real Chromium, driven by playwright-core, for the tests that use a browser: Debian's
 * /usr/bin/chromium when the machine has it, else the one npm's @sparticuz/chromium ships
 * (a headless build, unpacked once into $LAGSCALE_HOME/tools). Never a downloaded browser.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { installTool, run } from './tools.ts'

const DEBIAN_CHROMIUM = '/usr/bin/chromium'
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

interface ChromiumBinary {
  executablePath: string
  /** What it needs in its environment. */
  env: NodeJS.ProcessEnv
}

let found: ChromiumBinary | undefined

/** Debian's chromium if it runs, else npm's, unpacked once (a second test file waits for the first). */
export function chromiumBinary(): ChromiumBinary {
  found ??=
    spawnSync(DEBIAN_CHROMIUM, ['--version']).status === 0
      ? { executablePath: DEBIAN_CHROMIUM, env: {} }
      : npmChromium()
  return found
}

function npmChromium(): ChromiumBinary {
  const entry = import.meta.resolve('@sparticuz/chromium')
  const pkgDir = dirname(dirname(fileURLToPath(entry)))
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }
  const dir = installTool(`chromium-${version}`, (dir) => {
    // The package unpacks into os.tmpdir(): a child whose TMPDIR is the install folder unpacks
    // there (chromium, its SwiftShader libraries beside it, fonts), plus the NSS libraries it links
    // against (al2023), so it also runs where the machine has none.
    run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { default: chromium, inflate } = await import(${JSON.stringify(entry)})
         await chromium.executablePath()
         await inflate(${JSON.stringify(join(pkgDir, 'bin', 'al2023.tar.br'))})`
      ],
      { env: { ...process.env, TMPDIR: dir } }
    )
    // The package's fonts.conf names /tmp/fonts; ours names where the fonts are, after the machine's own.
    mkdirSync(join(dir, 'fontconfig'))
    writeFileSync(
      join(dir, 'fontconfig', 'fonts.conf'),
      `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>${join(dir, 'fonts', 'fonts')}</dir>
  <cachedir>${join(dir, 'fontconfig', 'cache')}</cachedir>
</fontconfig>
`
    )
  })
  return {
    executablePath: join(dir, 'chromium'),
    env: { FONTCONFIG_PATH: join(dir, 'fontconfig'), LD_LIBRARY_PATH: join(dir, 'al2023', 'lib') }
  }
}

/** Starts chromium headless (Debian's or npm's, see chromiumBinary). */
export async function launchChromium(): Promise<LaunchedChromium> {
  const { executablePath, env } = chromiumBinary()
  // launchServer gives the browser's PID, so close() can kill it if closing the browser does not.
  // Playwright runs chromium with a fresh temporary profile (user-data-dir) and removes it on close.
  const server = await chromium.launchServer({
    executablePath,
    args: CHROMIUM_ARGS,
    env: { ...process.env, ...env },
    timeout: 60_000
  })
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
