import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** A file the dashboard serves, read once when the routes are registered. */
export interface Asset {
  body: Buffer
  type: string
  etag: string
}

const JS = 'text/javascript; charset=utf-8'
const CSS = 'text/css; charset=utf-8'
export const HTML = 'text/html; charset=utf-8'

/**
 * src/dashboard/public when run from the sources, dist/dashboard/public once built (the build
 * script copies it there): next to this module either way.
 */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url))

/** uPlot's browser build and stylesheet, where npm installed them (never copied into the repo, never a CDN). */
export function uplotFile(name: 'uPlot.iife.min.js' | 'uPlot.min.css'): string {
  return fileURLToPath(import.meta.resolve(`uplot/dist/${name}`))
}

function load(path: string, type: string): Asset {
  let body: Buffer
  try {
    body = readFileSync(path)
  } catch (err) {
    throw new Error(`the dashboard cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  return { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` }
}

/** The page, and the files it links to by their URL path under assets/. */
export function loadAssets(): { page: Asset; files: Map<string, Asset> } {
  return {
    page: load(`${PUBLIC_DIR}index.html`, HTML),
    files: new Map([
      ['dashboard.js', load(`${PUBLIC_DIR}dashboard.js`, JS)],
      ['dashboard.css', load(`${PUBLIC_DIR}dashboard.css`, CSS)],
      ['uPlot.iife.min.js', load(uplotFile('uPlot.iife.min.js'), JS)],
      ['uPlot.min.css', load(uplotFile('uPlot.min.css'), CSS)]
    ])
  }
}
