/**
 * Installs a test tool once per machine, however many test processes ask for it at the same time.
 *
 * `$LAGSCALE_HOME/tools/<name>` is published only when complete: the install runs in a fresh folder
 * `tools/.installs/<name>-<token>`, then a symlink `tools/<name>` to it is renamed into place
 * (atomic). A symlink rather than a renamed folder because a Python venv cannot move: its scripts
 * name their interpreter by absolute path. So a caller sees a finished install or none.
 *
 * One process installs: it holds `tools/<name>.lock` (created with link(2), which fails if it exists,
 * holding the holder's pid); the others wait for the lock to go, then find the tool published. A
 * lock whose holder died (killed mid-install) is taken over. The lock is only about doing the work
 * once: two installs that did race would each publish a complete folder.
 */
import { randomBytes } from 'node:crypto'
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import { lagscaleHome } from '../../src/broker/paths.ts'

export interface InstallOnceSpec {
  /** The published name under the tools folder, version included: `moto-5.2.5`. */
  name: string
  /** Fills `dir` (created empty); throws to fail, and nothing is published. */
  install: (dir: string) => void
  /** Default `$LAGSCALE_HOME/tools`. */
  toolsDir?: string
  /** How long to wait for another process's install before failing (default 15 min). */
  timeoutMs?: number
  /** Told when this process starts waiting for another's install, and when it installs. */
  log?: (message: string) => void
}

interface LockOwner {
  pid: number
  /** The pid's start time (/proc/<pid>/stat field 22): a reused pid is not the holder. */
  started: string
  token: string
}

/** The path of the published tool (`<toolsDir>/<name>`); installs it first if no process has. */
export function installOnce(spec: InstallOnceSpec): string {
  const tools = spec.toolsDir ?? join(lagscaleHome(), 'tools')
  const published = join(tools, spec.name)
  if (isPublished(published)) return published
  mkdirSync(join(tools, '.installs'), { recursive: true })
  const lock = join(tools, `${spec.name}.lock`)
  const timeoutMs = spec.timeoutMs ?? 15 * 60_000
  const deadline = Date.now() + timeoutMs
  let toldWaiting = false
  for (;;) {
    const me = acquire(lock)
    if (me) {
      try {
        if (!isPublished(published)) install(spec, tools, published, me.token)
        return published
      } finally {
        release(lock, me)
      }
    }
    const holder = readOwner(lock)
    if (holder && !isAlive(holder)) {
      spec.log?.(`${spec.name}: taking over the lock of process ${holder.pid}, which died while installing`)
      takeOver(lock, holder)
      continue
    }
    // The holder may have published and released between our two looks.
    if (isPublished(published)) return published
    if (Date.now() > deadline) {
      throw new Error(
        `waited ${timeoutMs / 1000} s for ${spec.name} to be installed by process ${holder?.pid ?? '?'} ` +
          `(lock ${lock}); if no install is running, delete the lock`
      )
    }
    if (!toldWaiting) {
      spec.log?.(`${spec.name}: waiting for process ${holder?.pid ?? '?'}, which is installing it`)
      toldWaiting = true
    }
    sleepSync(100)
  }
}

/** Only a symlink to an existing folder counts: a plain folder is from an older layout or half-done. */
function isPublished(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && existsSync(path)
  } catch {
    return false
  }
}

function install(spec: InstallOnceSpec, tools: string, published: string, token: string): void {
  const base = `${spec.name}-${token}`
  const dir = join(tools, '.installs', base)
  // We hold the lock, so the other folders of this name are leftovers of installs that died.
  removeLeftovers(tools, spec.name)
  rmSync(published, { recursive: true, force: true })
  mkdirSync(dir)
  spec.log?.(`${spec.name}: installing into ${dir}`)
  try {
    spec.install(dir)
    const link = join(tools, `.${base}.link`)
    symlinkSync(join('.installs', base), link)
    renameSync(link, published)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

function removeLeftovers(tools: string, name: string): void {
  for (const entry of readdirSync(join(tools, '.installs'))) {
    // Exactly <name>-<token>: another tool's name may start with this one's.
    if (entry.startsWith(`${name}-`) && /^[0-9a-f]{12}$/.test(entry.slice(name.length + 1))) {
      rmSync(join(tools, '.installs', entry), { recursive: true, force: true })
    }
  }
}

/** Creates the lock atomically with its content (a complete file or none); undefined when it exists. */
function acquire(lock: string): LockOwner | undefined {
  const me: LockOwner = {
    pid: process.pid,
    started: startTime(process.pid) ?? '',
    token: randomBytes(6).toString('hex')
  }
  const draft = `${lock}.${me.token}`
  writeFileSync(draft, JSON.stringify(me))
  try {
    linkSync(draft, lock)
    return me
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw err
  } finally {
    unlinkSync(draft)
  }
}

function release(lock: string, me: LockOwner): void {
  if (readOwner(lock)?.token === me.token) rmSync(lock, { force: true })
}

function readOwner(lock: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(lock, 'utf8')) as LockOwner
  } catch {
    return undefined // released meanwhile
  }
}

/**
 * Removes a dead holder's lock. Renamed away first, so of several waiters taking it over at once
 * only one removes it; if what was renamed is no longer that holder's (someone took over and
 * locked in between), it is put back.
 */
function takeOver(lock: string, dead: LockOwner): void {
  const aside = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    renameSync(lock, aside)
  } catch {
    return // another waiter moved it first
  }
  const moved = readOwner(aside)
  if (moved && moved.token !== dead.token) {
    try {
      linkSync(aside, lock)
    } catch {
      // a third process locked meanwhile: at worst two installs race, each publishing a whole folder
    }
  }
  rmSync(aside, { force: true })
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  const stat = procStat(owner.pid)
  if (!stat) return true // no /proc: the signal said it exists
  // A zombie (killed, not yet reaped) installs nothing more; a different start time is a reused pid.
  return stat.state !== 'Z' && (owner.started === '' || stat.started === owner.started)
}

function startTime(pid: number): string | undefined {
  return procStat(pid)?.started
}

/** State (field 3) and start time (field 22) from /proc/<pid>/stat. */
function procStat(pid: number): { state: string; started: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0] ?? '', started: fields[19] ?? '' }
  } catch {
    return undefined
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))
/** Blocks this thread: the tools' callers are synchronous (a test's before hook), as are the installs. */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms)
}
