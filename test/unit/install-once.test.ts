import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { installOnce } from '../support/install-once.ts'
import { waitFor } from '../support/wait.ts'

/**
 * installOnce across real processes: each child asks for the same tool, and its install (when it
 * gets to run one) logs "start <pid>", says it is busy, and finishes only once the test allows it.
 */
const CHILD = `
const { installOnce } = await import(process.env.HELPER_URL)
const { appendFileSync, existsSync, writeFileSync } = await import('node:fs')
const { join } = await import('node:path')
const work = process.env.WORK
const pause = new Int32Array(new SharedArrayBuffer(4))
const path = installOnce({
  name: 'tool-1.0',
  toolsDir: join(work, 'tools'),
  timeoutMs: 20000,
  log: (m) => process.stderr.write(m + '\\n'),
  install: (dir) => {
    appendFileSync(join(work, 'installs.log'), 'start ' + process.pid + '\\n')
    writeFileSync(join(work, 'busy'), String(process.pid))
    while (!existsSync(join(work, 'go'))) Atomics.wait(pause, 0, 0, 20)
    writeFileSync(join(dir, 'payload'), 'installed by ' + process.pid)
  }
})
process.stdout.write(path)
`

interface Child {
  process: ChildProcess
  stderr: () => string
  result: Promise<{ code: number | null; stdout: string }>
}

let work = ''
const tools = (): string => join(work, 'tools')
const published = (): string => join(tools(), 'tool-1.0')
const installs = (): string[] => readdirSync(join(tools(), '.installs'))
const installLog = (): string[] => readFileSync(join(work, 'installs.log'), 'utf8').trim().split('\n')

function startChild(): Child {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, WORK: work, HELPER_URL: new URL('../support/install-once.ts', import.meta.url).href },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const result = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: out }))
  )
  return { process: child, stderr: () => err, result }
}

/** Waits until a child's install has started and is holding the lock; returns that child's pid. */
const busyPid = (): Promise<number> =>
  waitFor(
    'an install to start',
    () => existsSync(join(work, 'busy')) && Number(readFileSync(join(work, 'busy'), 'utf8'))
  )

const isLink = (path: string): boolean => existsSync(path) && lstatSync(path).isSymbolicLink()

describe('installOnce', () => {
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'lagscale-install-once-'))
  })
  afterEach(() => {
    rmSync(work, { recursive: true, force: true })
  })

  test('two processes at once: one installs, the other waits for it and gets the same finished install', async () => {
    const first = startChild()
    const holder = await busyPid()
    assert.equal(holder, first.process.pid)
    const second = startChild()
    await waitFor(
      'the second process to wait',
      () => second.stderr().includes(`waiting for process ${holder}`),
      10_000,
      {
        detail: second.stderr
      }
    )
    assert.ok(!existsSync(published()), 'nothing is published while the install runs')

    writeFileSync(join(work, 'go'), '')
    const [a, b] = await Promise.all([first.result, second.result])
    assert.equal(a.code, 0, first.stderr())
    assert.equal(b.code, 0, second.stderr())
    assert.equal(a.stdout, published())
    assert.equal(b.stdout, published())
    assert.deepEqual(installLog(), [`start ${holder}`], 'installed once, by the first')
    assert.equal(readFileSync(join(published(), 'payload'), 'utf8'), `installed by ${holder}`)
    assert.ok(isLink(published()), 'published as a symlink to the finished folder')
    assert.ok(!existsSync(join(tools(), 'tool-1.0.lock')), 'the lock is released')
  })

  test('a holder killed mid-install: the next process takes its lock over and installs afresh', async () => {
    const first = startChild()
    const dead = await busyPid()
    first.process.kill('SIGKILL')
    assert.equal((await first.result).code, null)
    assert.ok(existsSync(join(tools(), 'tool-1.0.lock')), 'the dead holder left its lock')
    assert.equal(installs().length, 1, "the dead holder's half-done folder")

    writeFileSync(join(work, 'go'), '')
    const second = startChild()
    const r = await second.result
    assert.equal(r.code, 0, second.stderr())
    assert.match(second.stderr(), new RegExp(`taking over the lock of process ${dead}`))
    assert.deepEqual(installLog(), [`start ${dead}`, `start ${second.process.pid}`])
    assert.equal(readFileSync(join(published(), 'payload'), 'utf8'), `installed by ${second.process.pid}`)
    assert.deepEqual(installs(), [readlinkSync(published()).split('/').at(-1)], 'the half-done folder is gone')
  })

  test('waiting for a live holder ends at the deadline, naming the holder and the lock', async () => {
    const first = startChild()
    try {
      const holder = await busyPid()
      const started = Date.now()
      assert.throws(
        () => installOnce({ name: 'tool-1.0', toolsDir: tools(), timeoutMs: 300, install: () => {} }),
        new RegExp(`waited 0.3 s for tool-1.0 to be installed by process ${holder} \\(lock .*tool-1.0.lock\\)`)
      )
      assert.ok(Date.now() - started >= 300, 'it did wait')
    } finally {
      first.process.kill('SIGKILL')
      await first.result
    }
  })

  test('a failed install publishes nothing, leaves nothing, and the next call installs', () => {
    const fail = (): string =>
      installOnce({
        name: 'tool-1.0',
        toolsDir: tools(),
        install: (dir) => {
          writeFileSync(join(dir, 'half'), '')
          throw new Error('pip said no')
        }
      })
    assert.throws(fail, /pip said no/)
    assert.ok(!existsSync(published()))
    assert.deepEqual(readdirSync(tools()), ['.installs'], 'no lock left behind')
    assert.deepEqual(installs(), [])

    let runs = 0
    const ok = (): string =>
      installOnce({
        name: 'tool-1.0',
        toolsDir: tools(),
        install: (dir) => {
          runs++
          writeFileSync(join(dir, 'payload'), 'ok')
        }
      })
    assert.equal(ok(), published())
    assert.equal(ok(), published())
    assert.equal(runs, 1, 'a published tool is not installed again')
    assert.equal(readFileSync(join(published(), 'payload'), 'utf8'), 'ok')
  })

  test('a plain folder in place of the link (an older layout, or half-done) is replaced by a full install', () => {
    mkdirSync(published(), { recursive: true })
    writeFileSync(join(published(), 'half'), '')
    const path = installOnce({
      name: 'tool-1.0',
      toolsDir: tools(),
      install: (dir) => writeFileSync(join(dir, 'payload'), 'ok')
    })
    assert.ok(isLink(path))
    assert.deepEqual(readdirSync(path), ['payload'])
  })
})
