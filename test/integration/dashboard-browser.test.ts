/**
 * The autoscaler's dashboard in a real browser (Debian's chromium, driven by playwright-core),
 * fed by a fake DashboardSource: the page starts from /api/history, then follows /api/events
 * as lag rises, members join and decisions arrive; the indicator tells live, stale and
 * disconnected apart. No Kafka here: the dashboard only presents snapshots.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import type { AutoscalerSnapshot, DecisionLogEntry, GroupMemberObservation } from '../../src/autoscaler/types.ts'
import { type Dashboard, registerDashboard } from '../../src/dashboard/index.ts'
import { type LaunchedChromium, launchChromium, type PageDocument, screenshotPng } from '../support/browser.ts'
import { dashboardSnapshot, FakeDashboardSource } from '../support/dashboard.ts'
import { observationOf, partitionObservation } from '../support/observations.ts'

const WAIT_MS = 15_000

// The functions run in the page see the browser's document; this project compiles without lib.dom.
declare const document: PageDocument

const T0 = Date.parse('2026-03-01T12:00:00Z')
const TOPIC = 'orders'
const PARTITIONS = 4

const member = (clientId: string, partitions: number[]): GroupMemberObservation => ({
  memberId: `${clientId}-6f1c9e04-2b7a-4d0e-9a51-3c8d2f7b1e60`,
  clientId,
  host: '/127.0.0.1',
  partitions: partitions.map((partition) => ({ topic: TOPIC, partition }))
})

interface Step {
  lags: number[]
  members?: GroupMemberObservation[]
  desired?: number
  running?: number
  decisions?: DecisionLogEntry[]
  stale?: boolean
}

/** The autoscaler's snapshot number `i` (every 5 s from T0). */
function snapshot(i: number, step: Step): AutoscalerSnapshot {
  const at = T0 + i * 5000
  const members = step.members ?? []
  const ownerOf = (p: number): string | undefined =>
    members.find((m) => m.partitions.some((x) => x.partition === p))?.clientId
  const partitions = step.lags.map((lag, partition) =>
    partitionObservation(partition, lag, {
      topic: TOPIC,
      logEndOffset: 10_000 + lag,
      committedOffset: 10_000,
      consumeRate: 50,
      produceRate: 50 + lag / 5,
      timeLagMs: lag * 20,
      owner: ownerOf(partition)
    })
  )
  const observation = observationOf(at, partitions, {
    group: 'orders-workers',
    groupState: members.length === 0 ? 'Empty' : 'Stable',
    members,
    stale: step.stale ?? false,
    ...(step.stale ? { error: 'broker unreachable: connect ECONNREFUSED 127.0.0.1:9092' } : {})
  })
  return dashboardSnapshot(observation, {
    status: { desired: step.desired ?? 1, running: step.running ?? 1 },
    decisions: step.decisions ?? []
  })
}

const CAPPED: DecisionLogEntry = {
  at: T0 + 3 * 5000,
  policy: 'drain-time',
  from: 1,
  desired: 4,
  action: 'scale-out',
  reason: 'capped at 4: the topic has 4 partitions; 8 partitions would drain this backlog in ~60 s.',
  cap: { uncapped: 8, usable: 4, recommendedPartitions: 8 },
  estimatedDrainMs: 120_000,
  applied: true
}
const HOLD: DecisionLogEntry = {
  at: T0 + 4 * 5000,
  policy: 'drain-time',
  from: 4,
  desired: 4,
  action: 'hold',
  reason: 'Scale-out cooldown: the last scale-out was 5 s ago (cooldown 30 s).',
  applied: false
}

/** Waits until the element with `testid` reads exactly `text` (its trimmed text content). */
async function waitForText(page: Page, testid: string, text: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() === want,
      [testid, text] as const,
      { timeout: WAIT_MS }
    )
  } catch (err) {
    const got = await page.getByTestId(testid).first().textContent()
    throw new Error(`${testid}: expected ${JSON.stringify(text)}, still ${JSON.stringify(got)}`, { cause: err })
  }
}

/** Waits until the first element with `testid` has `attr` = `value`. */
async function waitForAttribute(page: Page, testid: string, attr: string, value: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([id, name, want]) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute(name) === want,
      [testid, attr, value] as const,
      { timeout: WAIT_MS }
    )
  } catch (err) {
    const got = await page.getByTestId(testid).first().getAttribute(attr)
    throw new Error(`${testid}[${attr}]: expected ${JSON.stringify(value)}, still ${JSON.stringify(got)}`, {
      cause: err
    })
  }
}

const texts = async (page: Page, testid: string): Promise<string[]> =>
  (await page.getByTestId(testid).allTextContents()).map((t) => t.trim())

describe('the autoscaler dashboard in chromium', () => {
  const source = new FakeDashboardSource()
  let app: FastifyInstance | undefined
  let appClosed = false
  let dashboard: Dashboard | undefined
  let url = ''
  let chromium: LaunchedChromium | undefined

  before(async () => {
    chromium = await launchChromium()
    app = Fastify({ logger: false })
    dashboard = registerDashboard(app, source)
    await app.listen({ port: 0, host: '127.0.0.1' })
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`
  })

  after(async () => {
    await chromium?.close()
    if (!appClosed) await app?.close()
  })

  test('history first, then live updates: numbers, partitions, members, decisions, charts; stale and disconnected', async (t) => {
    // Two snapshots before the page opens: it must draw them from /api/history.
    source.push(snapshot(0, { lags: [0, 0, 0, 0] }))
    source.push(snapshot(1, { lags: [0, 120, 40, 0] }))

    const context = await chromium!.browser.newContext({
      locale: 'en-US',
      timezoneId: 'UTC',
      viewport: { width: 1280, height: 900 }
    })
    const problems: string[] = []
    try {
      const page = await context.newPage()
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`)
      })
      const landed = await page.goto(url)
      assert.equal(landed?.status(), 200)

      await waitForAttribute(page, 'connection', 'data-state', 'live')
      assert.equal((await page.getByRole('status').textContent())?.replace(/\s+/g, ' ').trim(), 'Connection: live')
      await waitForAttribute(page, 'chart-lag', 'data-points', '2')
      await waitForText(page, 'sum-lag', '160')
      assert.equal(await page.title(), 'lag 160 · orders-workers · lagscale dashboard')
      assert.equal(await page.getByTestId('group').textContent(), 'orders-workers')
      assert.equal(await page.getByTestId('topics').textContent(), 'orders')
      assert.equal(await page.getByTestId('policy').textContent(), 'drain-time')
      assert.equal(await page.getByTestId('backend').textContent(), 'local')
      assert.equal(await page.getByTestId('partition-row').count(), PARTITIONS)
      assert.deepEqual(await texts(page, 'members'), ['No consumer in the group.'])
      assert.deepEqual(await texts(page, 'decisions'), ['No decision yet.'])

      // Lag rises on partitions 1 and 2; a consumer joins and holds all four.
      source.push(snapshot(2, { lags: [0, 1500, 3400, 10], members: [member('worker-a', [0, 1, 2, 3])] }))
      await waitForText(page, 'sum-lag', '4,910')
      await waitForText(page, 'max-lag', '3,400')
      assert.equal(await page.getByTestId('max-time-lag').textContent(), '1 min 08 s')
      const p2 = page.locator('[data-testid="partition-row"][data-partition="orders:2"]')
      assert.equal(await p2.getByTestId('lag').textContent(), '3,400')
      assert.equal(await p2.getByTestId('log-end').textContent(), '13,400')
      assert.equal(await p2.getByTestId('committed').textContent(), '10,000')
      assert.equal(await p2.getByTestId('time-lag').textContent(), '1 min 08 s')
      assert.equal(await p2.getByTestId('owner').textContent(), 'worker-a')
      const barWidth = async (p: number): Promise<number> =>
        (await page
          .locator(`[data-testid="partition-row"][data-partition="orders:${p}"] [data-testid="lag-bar"] .fill`)
          .boundingBox())!.width
      assert.ok((await barWidth(2)) > (await barWidth(1)), 'the longer bar for the larger lag')
      assert.ok((await barWidth(1)) > 0)
      assert.equal(await barWidth(0), 0, 'no bar without lag')
      await waitForText(page, 'member-client', 'worker-a')
      assert.equal(await page.getByTestId('member').count(), 1)
      assert.equal(
        (await page.getByTestId('member-partitions').textContent())?.replace(/\s+/g, ''),
        'p0p1p2p3',
        'the partitions worker-a holds'
      )

      // A capped scale-out arrives: 4 desired, 1 running so far; a second member joins.
      const twoMembers = [member('worker-a', [0, 1]), member('worker-b', [2, 3])]
      source.push(
        snapshot(3, { lags: [0, 2600, 5200, 30], members: twoMembers, desired: 4, running: 1, decisions: [CAPPED] })
      )
      await waitForText(page, 'consumers-desired', '4')
      assert.equal(await page.getByTestId('consumers-running').textContent(), '1')
      await waitForText(page, 'sum-lag', '7,830')
      const first = page.getByTestId('decision').first()
      await first.waitFor({ timeout: WAIT_MS })
      assert.equal(await first.getAttribute('data-capped'), 'true')
      assert.equal(await first.getAttribute('data-action'), 'scale-out')
      assert.equal(await first.getByTestId('decision-action').textContent(), 'scale out')
      assert.equal((await first.getByTestId('decision-counts').textContent())?.replace(/\s+/g, ' '), '1 → 4 consumers')
      assert.equal(await first.getByTestId('decision-reason').textContent(), CAPPED.reason)
      assert.equal(await first.getByTestId('decision-capped').textContent(), 'capped by partitions')
      assert.match((await first.getByTestId('decision-cap').textContent()) ?? '', /wanted 8; only 4 can get work/)
      assert.deepEqual(await texts(page, 'member-client'), ['worker-a', 'worker-b'])

      // The consumers run; a hold is logged: newest first.
      const fourMembers = [0, 1, 2, 3].map((p) => member(`worker-${'abcd'[p]}`, [p]))
      source.push(
        snapshot(4, {
          lags: [0, 900, 2100, 0],
          members: fourMembers,
          desired: 4,
          running: 4,
          decisions: [CAPPED, HOLD]
        })
      )
      await waitForText(page, 'consumers-running', '4')
      await page.getByTestId('decision').nth(1).waitFor({ timeout: WAIT_MS })
      assert.deepEqual(
        await page.getByTestId('decision').evaluateAll((items) => items.map((i) => i.getAttribute('data-action'))),
        ['hold', 'scale-out']
      )
      assert.equal(await page.getByTestId('decision').first().getAttribute('data-capped'), 'false')
      assert.deepEqual(await texts(page, 'member-client'), ['worker-a', 'worker-b', 'worker-c', 'worker-d'])

      // The charts: canvases drawn, and one point per snapshot, history included.
      await waitForAttribute(page, 'chart-lag', 'data-points', '5')
      await waitForAttribute(page, 'chart-consumers', 'data-points', '5')
      for (const chart of ['chart-lag', 'chart-consumers']) {
        const canvas = page.getByTestId(chart).locator('canvas')
        assert.equal(await canvas.count(), 1, `${chart} has a canvas`)
        const box = await canvas.boundingBox()
        assert.ok(
          box !== null && box.width > 100 && box.height > 100,
          `${chart}'s canvas is drawn: ${JSON.stringify(box)}`
        )
      }
      const series = await page.evaluate(() => {
        const { charts } = (globalThis as unknown as { lagscaleDashboard: { charts: Record<string, unknown> } })
          .lagscaleDashboard
        const data = (name: string): (number | null)[][] => (charts[name] as { data: (number | null)[][] }).data
        return { lag: data('lag'), consumers: data('consumers') }
      })
      assert.equal(series.lag.length, 2 + PARTITIONS, 'x, the total, one series per partition')
      assert.deepEqual(series.lag[1], [0, 160, 4910, 7830, 3000], 'the total over time')
      assert.deepEqual(series.lag[3], [0, 120, 1500, 2600, 900], 'partition 1 over time')
      assert.deepEqual(series.consumers[1], [1, 1, 1, 4, 4], 'desired over time')
      assert.deepEqual(series.consumers[2], [1, 1, 1, 1, 4], 'running over time')

      const steady = { members: fourMembers, desired: 4, running: 4, decisions: [CAPPED, HOLD] }
      // An observation that failed: the data is kept, the indicator and the banner say so.
      source.push(snapshot(5, { ...steady, lags: [0, 900, 2100, 0], stale: true }))
      await waitForAttribute(page, 'connection', 'data-state', 'stale')
      await waitForText(page, 'connection-text', 'stale')
      assert.match((await page.getByTestId('banner').textContent()) ?? '', /ECONNREFUSED/)
      assert.ok(await page.getByTestId('banner').isVisible())
      source.push(snapshot(6, { ...steady, lags: [0, 300, 700, 0] }))
      await waitForAttribute(page, 'connection', 'data-state', 'live')
      assert.equal(await page.getByTestId('banner').isVisible(), false)
      await waitForText(page, 'sum-lag', '1,000')

      const shot = await screenshotPng(page, 'dashboard.png')
      t.diagnostic(`screenshot: ${shot.path} (${shot.bytes} bytes)`)

      // A narrow window: nothing wider than the screen; the charts shrink to fit.
      await page.setViewportSize({ width: 380, height: 800 })
      await page.waitForFunction(
        () =>
          document.documentElement.scrollWidth <= document.documentElement.clientWidth &&
          [...document.querySelectorAll('.chart canvas')].every((c) => c.getBoundingClientRect().right <= 380),
        undefined,
        { timeout: WAIT_MS }
      )
      await page.setViewportSize({ width: 1280, height: 900 })
      assert.deepEqual(problems, [], 'no error in the page')

      // The server drops the stream: disconnected, then the browser reconnects and gets what it missed.
      assert.equal(dashboard!.clients(), 1)
      dashboard!.disconnectAll()
      await waitForAttribute(page, 'connection', 'data-state', 'disconnected')
      source.push(snapshot(7, { ...steady, lags: [0, 0, 0, 0] }))
      await waitForAttribute(page, 'connection', 'data-state', 'live')
      await waitForText(page, 'sum-lag', '0')
      await waitForAttribute(page, 'chart-lag', 'data-points', '8')

      // The server goes away: disconnected, and it stays so.
      const listening = source.listeners.size
      appClosed = true
      await app!.close()
      assert.equal(source.listeners.size, 0, `the stream and the history unsubscribed (were ${listening})`)
      await waitForAttribute(page, 'connection', 'data-state', 'disconnected')
      await waitForText(page, 'connection-text', 'disconnected')
      assert.equal(await page.getByTestId('sum-lag').textContent(), '0', 'the last data stays on the page')
    } finally {
      await context.close()
    }
  })
})
