/**
 * The dashboard page in chromium shows the consumers' health: the health card, the problems
 * banner, stalled partitions in the table, consumers missing from the group among the members,
 * and the decision that said so. Fed hand-built snapshots (no autoscaler, no Kafka).
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import type { ConsumerHealth, DecisionLogEntry } from '../../src/autoscaler/types.ts'
import { registerDashboard } from '../../src/dashboard/index.ts'
import { type LaunchedChromium, launchChromium } from '../support/browser.ts'
import { dashboardSnapshot, FakeDashboardSource } from '../support/dashboard.ts'
import { observationOf, partitionObservation, T0 } from '../support/observations.ts'

const source = new FakeDashboardSource()
let app: FastifyInstance | undefined
let chromium: LaunchedChromium | undefined
let url = ''

before(async () => {
  chromium = await launchChromium()
  app = Fastify({ logger: false })
  registerDashboard(app, source)
  await app.listen({ port: 0, host: '127.0.0.1' })
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`
})

after(async () => {
  await chromium?.close()
  await app?.close()
})

const worker1 = {
  memberId: 'm-1',
  clientId: 'lagscale-worker-1',
  host: '/127.0.0.1',
  partitions: [0, 1, 2, 3].map((partition) => ({ topic: 'Topic_from_java', partition }))
}

/** worker-1 holds all 4 partitions and partition 3 is stuck; worker-2 was started but is not in the group. */
function unhealthy(at: number) {
  const observation = observationOf(
    at,
    [
      partitionObservation(0, 0, { owner: 'lagscale-worker-1' }),
      partitionObservation(1, 0, { owner: 'lagscale-worker-1' }),
      partitionObservation(2, 0, { owner: 'lagscale-worker-1' }),
      partitionObservation(3, 90, { committedOffset: 120, logEndOffset: 210, owner: 'lagscale-worker-1' })
    ],
    { members: [worker1] }
  )
  const health: ConsumerHealth = {
    at,
    missing: { count: 1, running: 2, clientIds: ['lagscale-worker-2'], forMs: 45_000 },
    stalled: [
      {
        topic: 'Topic_from_java',
        partition: 3,
        committedOffset: 120,
        forMs: 60_000,
        lagBefore: 40,
        lag: 90,
        owner: 'lagscale-worker-1'
      }
    ],
    problems: [
      '1 of 2 consumers is not in the group for 45 s (lagscale-worker-2)',
      'partition 3 stalled: committed 120 for 60 s while lag grew 40 -> 90; owner lagscale-worker-1'
    ]
  }
  const decision: DecisionLogEntry = {
    at,
    policy: 'drain',
    from: 2,
    desired: 2,
    action: 'hold',
    reason: `hold at 2: lag 90 on 1 of 4 partitions; but ${health.problems.join('; ')}; replacing lagscale-worker-1, lagscale-worker-2`,
    applied: false,
    health: {
      problems: health.problems,
      missing: 1,
      stalled: 1,
      replaced: ['lagscale-worker-1', 'lagscale-worker-2']
    }
  }
  return dashboardSnapshot(observation, { status: { desired: 2, running: 2 }, health, decisions: [decision] })
}

test('health on the page: card, banner, stalled partition, missing member, decision badges; then healthy', async () => {
  source.push(unhealthy(T0))
  // A fixed locale: the machine's (en-US@posix in a bare container) is no language tag a browser takes.
  const context = await chromium!.browser.newContext({ locale: 'en-US', timezoneId: 'UTC' })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(url)
  await page.getByTestId('health').filter({ hasText: '1 missing · 1 stalled' }).waitFor({ timeout: 15_000 })
  assert.equal(await page.getByTestId('stat-health').getAttribute('data-state'), 'bad')
  assert.ok(await page.getByTestId('health-banner').isVisible())
  assert.deepEqual(
    (await page.getByTestId('health-problem').allTextContents()).map((t) => t.trim()),
    [
      '1 of 2 consumers is not in the group for 45 s (lagscale-worker-2)',
      'partition 3 stalled: committed 120 for 60 s while lag grew 40 -> 90; owner lagscale-worker-1'
    ]
  )
  const stalledRows = page.locator('[data-testid="partition-row"][data-stalled="true"]')
  assert.equal(await stalledRows.count(), 1)
  assert.equal(await stalledRows.getAttribute('data-partition'), 'Topic_from_java:3')
  assert.equal((await stalledRows.getByTestId('stalled').textContent())?.trim(), 'stalled 1 min')
  const missing = page.getByTestId('member-missing')
  assert.equal(await missing.count(), 1)
  assert.match((await missing.textContent()) ?? '', /lagscale-worker-2\s*not in the group for 45 s/)
  assert.equal(await page.getByTestId('member').count(), 1, 'the one member in the group is still listed')
  assert.equal(await page.getByTestId('decision-unhealthy').count(), 1)
  assert.match((await page.getByTestId('decisions').textContent()) ?? '', /replaced 2/)

  // The next verdict is healthy: the card says so and the marks go.
  const healthy = unhealthy(T0 + 5000)
  source.push({
    ...healthy,
    health: { at: healthy.at, stalled: [], problems: [] },
    decisions: []
  })
  await page.getByTestId('health').filter({ hasText: 'OK' }).waitFor({ timeout: 15_000 })
  assert.equal(await page.getByTestId('stat-health').getAttribute('data-state'), 'ok')
  assert.equal(await page.getByTestId('health-banner').isVisible(), false)
  assert.equal(await stalledRows.count(), 0)
  assert.equal(await missing.count(), 0)
  assert.deepEqual(errors, [])
  await context.close()
})
