/**
 * GET /api/health: the consumers' health verdict of the newest snapshot, for a probe or a script.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import type { ConsumerHealth } from '../../src/autoscaler/types.ts'
import { registerDashboard } from '../../src/dashboard/index.ts'
import { dashboardSnapshot, FakeDashboardSource } from '../support/dashboard.ts'
import { observationOf, partitionObservation, T0 } from '../support/observations.ts'

test('/api/health: 503 before the first verdict, then the verdict with what runs', async () => {
  const source = new FakeDashboardSource()
  const app = Fastify({ logger: false })
  registerDashboard(app, source)
  try {
    const before = await app.inject('/api/health')
    assert.equal(before.statusCode, 503)
    assert.match((JSON.parse(before.body) as { message: string }).message, /no health verdict yet/i)

    const health: ConsumerHealth = {
      at: T0,
      missing: { count: 4, running: 4, clientIds: ['lagscale-worker-1', 'lagscale-worker-2'], forMs: 45_000 },
      stalled: [],
      problems: ['4 of 4 consumers are not in the group for 45 s (lagscale-worker-1, lagscale-worker-2)']
    }
    const observation = observationOf(T0, [partitionObservation(0, 295)], { groupState: 'Empty' })
    source.push(dashboardSnapshot(observation, { status: { desired: 4, running: 4 }, health }))
    const now = await app.inject('/api/health')
    assert.equal(now.statusCode, 200)
    assert.equal(now.headers['cache-control'], 'no-store')
    assert.deepEqual(JSON.parse(now.body), { ...health, running: 4, desired: 4 })
  } finally {
    await app.close()
  }
})
