/**
 * The worker's health check (what ECS's container health check calls): out of the group for
 * a rebalance or a broker restart it stays healthy; out for longer than the grace it is not.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { buildHttpServer, HEALTH_PATH, OutOfGroupGrace } from '../../src/consumer/http.ts'

test('the grace: never a member is unhealthy; out after being in is healthy for the grace, then not', () => {
  const g = new OutOfGroupGrace(30_000)
  assert.deepEqual(g.read(false, 0), { ok: false, text: 'Unhealthy: not in the group' }, 'starting, or a standby')
  assert.deepEqual(g.read(true, 1000), { ok: true, text: 'Healthy' })
  assert.deepEqual(g.read(false, 5000), {
    ok: true,
    text: 'Healthy (out of the group for 0 s; unhealthy after 30 s)'
  })
  assert.equal(g.read(false, 34_999).ok, true, 'a rebalance, a broker restart: 29.999 s out')
  assert.deepEqual(g.read(false, 35_000), { ok: false, text: 'Unhealthy: out of the group for 30 s' })
  assert.deepEqual(g.read(true, 40_000), { ok: true, text: 'Healthy' }, 'back in')
  assert.equal(g.read(false, 41_000).ok, true, 'a new absence gets a new grace')
  assert.equal(g.read(false, 70_999).ok, true)
  assert.equal(g.read(false, 71_000).ok, false)
})

test('GET the health path: 200 while within the grace, 503 after; the server samples membership itself', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 })
  let member = true
  const app = buildHttpServer({ healthy: () => member, registry: new Registry(), outOfGroupGraceMs: 5000 })
  try {
    const get = async () => {
      const r = await app.inject({ method: 'GET', url: HEALTH_PATH })
      return [r.statusCode, r.body]
    }
    assert.deepEqual(await get(), [200, 'Healthy'])
    member = false
    // Nobody asks for 3 s, yet the server noticed when the worker left (its own 1 s samples).
    t.mock.timers.tick(1000)
    t.mock.timers.tick(1000)
    t.mock.timers.tick(1000)
    assert.deepEqual(await get(), [200, 'Healthy (out of the group for 2 s; unhealthy after 5 s)'])
    t.mock.timers.tick(3000)
    assert.deepEqual(await get(), [503, 'Unhealthy: out of the group for 5 s'])
    member = true
    assert.deepEqual(await get(), [200, 'Healthy'])
  } finally {
    await app.close()
  }
})
