#!/usr/bin/env node
// In a checkout, run the TypeScript sources directly (Node 22 strips types);
// in an installed package (no src/), run the compiled dist/.
import { existsSync } from 'node:fs'

const source = new URL('../src/cli/main.ts', import.meta.url)
const entry =
  existsSync(source) && !source.pathname.includes('/node_modules/')
    ? source
    : new URL('../dist/cli/main.js', import.meta.url)
const { main } = await import(entry.href)
await main(process.argv)
