/**
 * `lagscale up` end to end, in a real browser: records sent from the producer page make
 * lag rise on the dashboard, consumers appear, lag drains; Ctrl-C stops everything.
 * It runs against the test broker (up reuses a lagscale broker already on its port).
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { PoolWorkerInfo } from '../../src/autoscaler/backends/local.ts'
import type { AutoscalerSnapshot } from '../../src/autoscaler/types.ts'
import { type LaunchedChromium, launchChromium, type PageDocument } from '../support/browser.ts'
import { spawnCli, uniqueName } from '../support/cli.ts'
import { testEnv } from '../support/test-env.ts'
import { waitFor } from '../support/wait.ts'

// The page functions run in the browser; this project compiles without the DOM types.
declare const document: PageDocument

let chromium: LaunchedChromium | undefined
after(async () => {
  await chromium?.close()
})

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('lagscale up: producer page -> lag on the dashboard -> consumers scale out -> lag 0; Ctrl-C stops it all', async (t) => {
  const env = testEnv()
  const port = env.bootstrap.split(':').at(-1)!
  const topic = uniqueName('up')
  const child = spawnCli(
    [
      'up',
      '--port',
      port,
      '--topic',
      topic,
      '--group',
      topic,
      '--partitions',
      '4',
      '--producer-port',
      '0',
      '--dashboard-port',
      '0',
      '--work-unit-ms',
      '30',
      '--drain-target',
      '2s',
      '--interval',
      '1s',
      '--scale-in-cooldown',
      '3s'
    ],
    { ...process.env, LAGSCALE_HOME: env.home }
  )
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  // 'close', not 'exit': the last output lines may still be in the pipe when the process exits.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  try {
    const banner = await waitFor('the "lagscale is up" banner', () => /press Ctrl-C/.test(stdout) && stdout, 60_000, {
      detail: () => `stdout: ${stdout.slice(-500)} stderr: ${stderr.slice(-500)}`
    })
    assert.match(banner, /already running; left running/, 'the test broker was reused')
    assert.match(banner, new RegExp(`topic +${topic} \\(4 partitions\\)`))
    const producerUrl = /producer +(http:\/\/\S+)/.exec(banner)?.[1]
    const dashboardUrl = /dashboard +(http:\/\/\S+)/.exec(banner)?.[1]
    assert.ok(producerUrl && dashboardUrl, banner)

    chromium = await launchChromium()
    const browser = chromium.browser
    const dashboard = await browser.newPage()
    await dashboard.goto(dashboardUrl)
    await dashboard.getByTestId('consumers-running').filter({ hasText: '1' }).waitFor({ timeout: 30_000 })

    const producer = await browser.newPage()
    await producer.goto(producerUrl)
    await producer.getByLabel('Number of messages', { exact: true }).fill('120')
    await producer.getByRole('button', { name: 'Submit' }).click()
    await producer.getByText('Messages sent: 120').waitFor({ timeout: 30_000 })

    // Lag rises on the page, then consumers appear.
    await dashboard.waitForFunction(
      () => Number(document.querySelector('[data-testid="sum-lag"]')?.textContent?.replace(/\D/g, '') || 0) > 0,
      undefined,
      { timeout: 30_000 }
    )
    await dashboard.waitForFunction(
      () => Number(document.querySelector('[data-testid="consumers-running"]')?.textContent?.trim() || 0) > 1,
      undefined,
      { timeout: 60_000 }
    )
    const decisions = await dashboard.getByTestId('decisions').textContent()
    assert.match(decisions ?? '', /scale-out|→|->/, 'a scale-out is in the decision log')
    await dashboard.screenshot({ path: join(mkdtempSync(join(tmpdir(), 'up-')), 'dashboard.png') })

    // The backlog drains.
    const snapshot = async (): Promise<AutoscalerSnapshot> =>
      (await (await fetch(new URL('api/snapshot', dashboardUrl))).json()) as AutoscalerSnapshot
    await waitFor('lag 0', async () => (await snapshot()).observation?.sumOffsetLag === 0, 90_000, { everyMs: 500 })
    const last = await snapshot()
    const pids = ((last.status.detail?.['workers'] ?? []) as PoolWorkerInfo[]).map((w) => w.pid!)
    assert.ok(pids.length >= 1)
    const metrics = await (await fetch(new URL('metrics', dashboardUrl))).text()
    assert.match(metrics, /lagscale_sum_offset_lag\{[^}]*\} 0/)

    // Ctrl-C: workers finish and leave, the producer closes, the reused broker stays up.
    child.kill('SIGINT')
    assert.equal(await exited, 0, stderr)
    assert.match(stdout, /^stopping: consumers finish/m)
    assert.match(stdout, /^stopped$/m)
    for (const pid of pids) assert.equal(alive(pid), false, `worker pid ${pid} is gone`)
    const stillUp = await fetch(producerUrl).then(
      () => true,
      () => false
    )
    assert.equal(stillUp, false, 'the producer app is closed')
    t.diagnostic(`decisions: ${last.decisions.map((d) => `${d.action} ${d.from}->${d.desired}`).join(', ')}`)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
