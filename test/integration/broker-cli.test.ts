import assert from 'node:assert/strict'
import { type ChildProcess, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { freePort } from '../../src/broker/local-broker.ts'
import { KAFKA_VERSION } from '../../src/broker/paths.ts'
import { type CliResult, collect, runCli, spawnCli } from '../support/cli.ts'
import { testEnv } from '../support/test-env.ts'

/** A LAGSCALE_HOME of its own (broker state, data) that shares the downloaded jars. */
function isolatedHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'lagscale-home-'))
  symlinkSync(join(testEnv().home, `kafka-${KAFKA_VERSION}`), join(home, `kafka-${KAFKA_VERSION}`))
  return home
}

describe('lagscale broker start / status / stop', () => {
  const home = isolatedHome()
  const env = { LAGSCALE_HOME: home }
  const started: number[] = []
  after(async () => {
    for (const port of started) await runCli(['broker', 'stop', '--port', String(port)], { env })
  })

  test('start --detach returns when the broker answers, status reports it, stop stops it', async () => {
    const port = await freePort()
    started.push(port)
    const up = await runCli(['broker', 'start', '--detach', '--port', String(port)], { env, timeoutMs: 120_000 })
    assert.equal(up.code, 0, up.stderr)
    assert.match(
      up.stdout,
      new RegExp(`^Kafka ${KAFKA_VERSION} broker ready at 127\\.0\\.0\\.1:${port} \\(pid \\d+, [\\d.]+ s\\)$`, 'm')
    )

    // It answers at once: start --detach only returns after a metadata request succeeded.
    const topics = await runCli([
      'topics',
      'create',
      '--bootstrap-server',
      `127.0.0.1:${port}`,
      '--topic',
      'after-start'
    ])
    assert.equal(topics.code, 0, topics.stderr)

    const status = await runCli(['broker', 'status', '--port', String(port), '--output', 'json'], { env })
    assert.equal(status.code, 0, status.stderr)
    const state = JSON.parse(status.stdout)
    assert.equal(state.running, true)
    assert.equal(state.bootstrap, `127.0.0.1:${port}`)
    assert.ok(state.dataDir.startsWith(home))

    const twice = await runCli(['broker', 'start', '--detach', '--port', String(port)], { env })
    assert.equal(twice.code, 1)
    assert.match(
      twice.stderr,
      new RegExp(`a lagscale broker is already running on port ${port} \\(pid ${state.pid}\\)`)
    )

    const stop = await runCli(['broker', 'stop', '--port', String(port)], { env })
    assert.equal(stop.code, 0, stop.stderr)
    assert.equal(stop.stdout.trim(), `stopped the broker on port ${port}`)
    const down = await runCli(['broker', 'status', '--port', String(port)], { env })
    assert.equal(down.code, 3)
    assert.equal(down.stdout.trim(), `not running on port ${port}`)
    const again = await runCli(['broker', 'stop', '--port', String(port)], { env })
    assert.equal(again.code, 0)
    assert.equal(again.stdout.trim(), `no lagscale broker is running on port ${port}`)

    // Data survives a restart: the topic is still there (warm start, storage already formatted).
    const warm = await runCli(['broker', 'start', '--detach', '--port', String(port)], { env, timeoutMs: 120_000 })
    assert.equal(warm.code, 0, warm.stderr)
    assert.doesNotMatch(warm.stderr, /Formatting/)
    const list = await runCli(['topics', 'list', '--bootstrap-server', `127.0.0.1:${port}`])
    assert.ok(list.stdout.split('\n').includes('after-start'))
    assert.equal((await runCli(['broker', 'stop', '--port', String(port)], { env })).code, 0)
  })

  /** `broker start` in the foreground, resolved once it says it is ready. */
  async function startForeground(): Promise<{ port: number; child: ChildProcess; result: Promise<CliResult> }> {
    const port = await freePort()
    started.push(port)
    const child = spawnCli(['broker', 'start', '--port', String(port)], env)
    child.stdin?.end()
    const result = collect(child, 120_000)
    await new Promise<void>((resolve, reject) => {
      let out = ''
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('press Ctrl-C to stop')) resolve()
      })
      child.once('exit', () => reject(new Error(`exited before ready: ${out}`)))
    })
    return { port, child, result }
  }

  test('foreground start stops cleanly on Ctrl-C (SIGINT)', async () => {
    const { port, child, result } = await startForeground()
    child.kill('SIGINT')
    const r = await result
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /stopping the broker\.\.\.\nbroker stopped\n$/)
    const status = await runCli(['broker', 'status', '--port', String(port)], { env })
    assert.equal(status.code, 3)
  })

  test('a foreground broker that dies (kill -9) is reported, not mistaken for a clean stop', async () => {
    const { port, result } = await startForeground()
    const state = JSON.parse(
      (await runCli(['broker', 'status', '--port', String(port), '--output', 'json'], { env })).stdout
    )
    process.kill(state.pid, 'SIGKILL')
    const r = await result
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^lagscale: the broker exited unexpectedly \(SIGKILL\); see .*broker\.log:$/m)
  })

  test('a port in use gives a clear error', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    try {
      const r = await runCli(['broker', 'start', '--detach', '--port', String(port)], { env })
      assert.equal(r.code, 1)
      assert.equal(r.stderr.trim(), `lagscale: port ${port} is already in use on 127.0.0.1; choose another with --port`)
    } finally {
      server.close()
    }
  })

  test('missing Java or Maven gives a clear error', async () => {
    const noJava = await runCli(['broker', 'start', '--detach', '--port', String(await freePort())], {
      env: { ...env, PATH: '/nonexistent' }
    })
    assert.equal(noJava.code, 1)
    assert.equal(
      noJava.stderr.trim(),
      'lagscale: Java 17 or newer is needed to run the Kafka broker; install a JDK (java)'
    )

    // Java present, Maven absent, jars not yet downloaded (a fresh LAGSCALE_HOME).
    const bin = mkdtempSync(join(tmpdir(), 'lagscale-bin-'))
    symlinkSync(execFileSync('sh', ['-c', 'command -v java']).toString().trim(), join(bin, 'java'))
    const fresh = mkdtempSync(join(tmpdir(), 'lagscale-fresh-'))
    mkdirSync(fresh, { recursive: true })
    const noMaven = await runCli(['broker', 'start', '--detach', '--port', String(await freePort())], {
      env: { LAGSCALE_HOME: fresh, PATH: bin }
    })
    assert.equal(noMaven.code, 1)
    assert.match(
      noMaven.stderr,
      /^lagscale: Maven \(mvn\) is needed once to download the Kafka broker jars; install maven\n$/
    )
  })

  test('bad flags: --port out of range', async () => {
    const r = await runCli(['broker', 'start', '--port', '70000'], { env })
    assert.equal(r.code, 2)
    assert.equal(r.stderr.trim(), 'lagscale: --port must be 1-65535; got 70000')
  })
})
