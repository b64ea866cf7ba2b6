// The lagscale dashboard: draws AutoscalerSnapshot objects (src/autoscaler/types.ts).
// Starts from api/history, then follows api/events (Server-Sent Events). No framework: uPlot for the charts.

const uPlot = globalThis.uPlot

/** Reconnect delays after the browser gave up on the event stream (a non-200 answer, e.g. a proxy's 502). */
const RECONNECT_MIN_MS = 2000
const RECONNECT_MAX_MS = 30000
/** With no snapshot for this long (and at least 3 intervals), the data is called stale. */
const STALE_FLOOR_MS = 10000
const CHART_HEIGHT = 240
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#8cd17d',
  '#499894',
  '#d37295'
]

const byId = (testid) => document.querySelector(`[data-testid="${testid}"]`)
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 })
const rate = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 })
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

const state = {
  /** Points kept per chart (the server's history limit). */
  limit: 720,
  /** `at` of the newest snapshot drawn: older or equal ones are duplicates (history and stream overlap). */
  lastAt: 0,
  /** Date.now() when the newest snapshot arrived (the browser's clock, not the server's). */
  receivedAt: 0,
  latest: undefined,
  open: false,
  /** The stream failed at least once since the last open: shown as disconnected while the browser retries. */
  failed: false,
  source: undefined,
  reconnectMs: RECONNECT_MIN_MS,
  renderQueued: false,
  decisionsKey: '',
  lag: { x: [], total: [], keys: [], series: new Map(), changed: true },
  consumers: { x: [], desired: [], running: [], max: [] },
  charts: { lag: undefined, consumers: undefined }
}

// For tests and the curious: the uPlot instances and the series data.
globalThis.lagscaleDashboard = {
  get charts() {
    return state.charts
  },
  get latest() {
    return state.latest
  }
}

// ---------- formatting

function duration(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 60) return `${Math.floor(s)} s`
  const m = Math.floor(s / 60)
  const rest = Math.floor(s % 60)
  if (m < 60) return rest === 0 ? `${m} min` : `${m} min ${String(rest).padStart(2, '0')} s`
  const h = Math.floor(m / 60)
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${String(m % 60).padStart(2, '0')} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

const count = (n) => (n === undefined || n === null || !Number.isFinite(n) ? '–' : integer.format(n))
const timeOf = (ms) => clock.format(new Date(ms))
const partitionKey = (p) => `${p.topic}\u0000${p.partition}`

/** "p3" for one topic, "orders-3" when the group reads several. */
function partitionLabel(topic, partition, topics) {
  return topics.length > 1 ? `${topic}-${partition}` : `p${partition}`
}

/** A DOM element: el('span', { class: 'x', 'data-testid': 'y' }, 'text', child). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    node.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue
    node.append(child instanceof Node ? child : String(child))
  }
  return node
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim()
}

// ---------- chart data

/** Adds one snapshot to the chart series (oldest points fall off past the limit). */
function record(s) {
  const x = s.at / 1000
  const lag = state.lag
  const obs = s.observation
  if (obs !== undefined) {
    for (const p of obs.partitions) {
      const key = partitionKey(p)
      if (lag.series.has(key)) continue
      lag.series.set(key, new Array(lag.x.length).fill(null))
      lag.keys.push({ key, topic: p.topic, partition: p.partition })
      lag.changed = true
    }
    if (lag.changed) lag.keys.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
  }
  const lags = new Map(obs === undefined ? [] : obs.partitions.map((p) => [partitionKey(p), p.lag]))
  lag.x.push(x)
  lag.total.push(obs === undefined ? null : obs.sumOffsetLag)
  for (const { key } of lag.keys) lag.series.get(key).push(lags.get(key) ?? null)

  const c = state.consumers
  c.x.push(x)
  c.desired.push(s.status.desired)
  c.running.push(s.status.running)
  c.max.push(s.limits.max)

  const extra = lag.x.length - state.limit
  if (extra > 0) {
    for (const arr of [lag.x, lag.total, ...lag.series.values(), c.x, c.desired, c.running, c.max]) {
      arr.splice(0, extra)
    }
  }
}

function lagData() {
  const lag = state.lag
  return [lag.x, lag.total, ...lag.keys.map(({ key }) => lag.series.get(key))]
}

function consumerData() {
  const c = state.consumers
  return [c.x, c.desired, c.running, c.max]
}

// ---------- charts

function baseOptions(container, series, y) {
  const axis = cssVar('--muted') || '#666'
  const grid = { stroke: cssVar('--grid') || 'rgba(0,0,0,0.07)', width: 1 }
  return {
    width: Math.max(container.clientWidth, 200),
    height: CHART_HEIGHT,
    series,
    cursor: { sync: { key: 'lagscale' } },
    // Away from the cursor, the legend shows the newest values rather than dashes.
    hooks: { ready: [showNewest], setData: [showNewest], setCursor: [(u) => u.cursor.idx ?? showNewest(u)] },
    scales: { x: { time: true }, y },
    axes: [
      { stroke: axis, grid, ticks: grid },
      { stroke: axis, grid, ticks: grid, size: 56, values: (_u, splits) => splits.map((v) => compact.format(v)) }
    ]
  }
}

function showNewest(u) {
  const newest = u.data[0].length - 1
  if (newest >= 0) u.setLegend({ idx: newest })
}

function buildLagChart(container) {
  const topics = [...new Set(state.lag.keys.map((k) => k.topic))]
  const series = [
    {},
    { label: 'Total', stroke: cssVar('--total') || '#111', width: 2.5, value: (_u, v) => count(v) },
    ...state.lag.keys.map((k, i) => ({
      label: partitionLabel(k.topic, k.partition, topics),
      stroke: PALETTE[i % PALETTE.length],
      width: 1.5,
      value: (_u, v) => count(v)
    }))
  ]
  const y = { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] }
  return new uPlot(baseOptions(container, series, y), lagData(), container)
}

function buildConsumerChart(container) {
  const stepped = uPlot.paths.stepped({ align: 1 })
  const accent = cssVar('--accent') || '#2563eb'
  const ok = cssVar('--ok') || '#15803d'
  const series = [
    {},
    { label: 'Desired', stroke: accent, width: 2, paths: stepped, points: { show: false } },
    {
      label: 'Running',
      stroke: ok,
      width: 2,
      fill: `${ok}22`,
      paths: stepped,
      points: { show: false }
    },
    {
      label: 'Max',
      stroke: cssVar('--muted') || '#888',
      width: 1,
      dash: [6, 4],
      paths: stepped,
      points: { show: false }
    }
  ]
  const y = { range: (_u, _min, max) => [0, Math.max(1, max ?? 0) + 1] }
  const options = baseOptions(container, series, y)
  options.axes[1].values = (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : ''))
  return new uPlot(options, consumerData(), container)
}

function drawCharts() {
  const lagBox = byId('chart-lag')
  const consumerBox = byId('chart-consumers')
  if (state.charts.lag === undefined || state.lag.changed) {
    state.charts.lag?.destroy()
    state.charts.lag = buildLagChart(lagBox)
    state.lag.changed = false
  } else {
    state.charts.lag.setData(lagData())
  }
  if (state.charts.consumers === undefined) state.charts.consumers = buildConsumerChart(consumerBox)
  else state.charts.consumers.setData(consumerData())
  lagBox.dataset.points = String(state.lag.x.length)
  lagBox.dataset.series = String(state.lag.keys.length + 1)
  consumerBox.dataset.points = String(state.consumers.x.length)
  consumerBox.dataset.series = '3'
}

function rebuildCharts() {
  state.charts.lag?.destroy()
  state.charts.consumers?.destroy()
  state.charts.lag = undefined
  state.charts.consumers = undefined
  if (state.lastAt > 0) drawCharts()
}

new ResizeObserver(() => {
  for (const [chart, box] of [
    [state.charts.lag, byId('chart-lag')],
    [state.charts.consumers, byId('chart-consumers')]
  ]) {
    if (chart !== undefined && Math.abs(chart.width - box.clientWidth) > 1) {
      chart.setSize({ width: Math.max(box.clientWidth, 200), height: CHART_HEIGHT })
    }
  }
}).observe(document.querySelector('.charts'))
// Colours come from CSS: redraw when the system switches between light and dark.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', rebuildCharts)

// ---------- the rest of the page

function setText(testid, text) {
  const node = byId(testid)
  if (node.textContent !== text) node.textContent = text
}

function renderHeader(s) {
  setText('group', s.group)
  setText('topics', s.topics.join(', ') || '–')
  setText('policy', s.policy)
  setText('backend', s.backend)
  setText('group-state', s.observation?.groupState ?? '–')
  const updated = byId('updated')
  updated.dateTime = new Date(s.at).toISOString()
  updated.textContent = timeOf(s.at)
  const lag = s.observation === undefined ? '' : `lag ${compact.format(s.observation.sumOffsetLag)} · `
  document.title = `${lag}${s.group} · lagscale dashboard`
}

function renderBanner(s) {
  const banner = byId('banner')
  const obs = s.observation
  let text = ''
  if (obs === undefined) text = 'No observation of the group yet: waiting for the first one.'
  else if (obs.stale) {
    text = `The last observation failed${obs.error ? ` (${obs.error})` : ''}; showing the last good data. The autoscaler does not scale on it.`
  }
  banner.hidden = text === ''
  banner.textContent = text
  banner.dataset.kind = obs === undefined ? 'info' : 'warn'
}

function renderNumbers(s) {
  const obs = s.observation
  setText('sum-lag', count(obs?.sumOffsetLag))
  setText('max-lag', count(obs?.maxOffsetLag))
  setText('max-time-lag', duration(obs?.maxTimeLagMs))
  let where = 'records (MaxOffsetLag)'
  if (obs !== undefined && obs.maxOffsetLag > 0) {
    const top = obs.partitions.reduce((a, b) => (b.lag > a.lag ? b : a))
    where = `records, on ${partitionLabel(top.topic, top.partition, s.topics)} (MaxOffsetLag)`
  }
  setText('max-lag-where', where)
  setText('consumers-running', count(s.status.running))
  setText('consumers-desired', count(s.status.desired))
  const converging = s.status.running !== s.status.desired
  byId('stat-consumers').dataset.converging = String(converging)
  setText(
    'consumers-sub',
    `running / desired${converging ? ' · scaling' : ''} · limits ${s.limits.min} to ${s.limits.max}`
  )
}

function renderHealth(s) {
  const h = s.health
  const box = byId('stat-health')
  const problems = h?.problems ?? []
  let value = '–'
  let sub = 'in the group and committing'
  let stateName = 'unknown'
  if (h !== undefined && problems.length > 0) {
    const parts = []
    if (h.missing !== undefined) parts.push(`${h.missing.count} missing`)
    if (h.stalled.length > 0) parts.push(`${h.stalled.length} stalled`)
    value = parts.join(' · ')
    sub =
      h.missing !== undefined ? 'consumers not in the group; partitions not committing' : 'partitions not committing'
    stateName = 'bad'
  } else if (h?.pending !== undefined) {
    sub = `no verdict: ${h.pending}`
  } else if (h !== undefined) {
    value = 'OK'
    sub = `${count(s.status.running)} running, all in the group; no stalled partition`
    stateName = 'ok'
  }
  setText('health', value)
  setText('health-sub', sub)
  box.dataset.state = stateName
  const banner = byId('health-banner')
  banner.hidden = problems.length === 0
  const list = byId('health-problems')
  const key = problems.join('\n')
  if (list.dataset.key !== key) {
    list.dataset.key = key
    list.replaceChildren(...problems.map((p) => el('li', { 'data-testid': 'health-problem' }, p)))
  }
}

function renderPartitions(s) {
  const body = byId('partition-rows')
  const obs = s.observation
  if (obs === undefined) {
    body.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: 7 }, 'No observation yet.')))
    setText('partition-count', '')
    return
  }
  const maxLag = Math.max(1, ...obs.partitions.map((p) => p.lag))
  const stalled = new Map((s.health?.stalled ?? []).map((x) => [partitionKey(x), x]))
  const rows = obs.partitions.map((p) => {
    const stall = stalled.get(partitionKey(p))
    const label = partitionLabel(p.topic, p.partition, s.topics)
    const fill = el('span', { class: 'fill' })
    fill.style.width = `${p.lag > 0 ? Math.max(2, (p.lag / maxLag) * 100) : 0}%`
    const committed =
      p.committedOffset === undefined
        ? el(
            'span',
            { title: `nothing committed: lag counted from the ${p.lagFrom} offset` },
            '–',
            ' ',
            el('span', { class: 'from' }, `(${p.lagFrom})`)
          )
        : count(p.committedOffset)
    const stallBadge =
      stall &&
      el(
        'span',
        {
          class: 'badge stalled',
          'data-testid': 'stalled',
          title: `the committed offset has not moved for ${duration(stall.forMs)} while the lag stayed above 0`
        },
        `stalled ${duration(stall.forMs)}`
      )
    const rates =
      p.produceRate === undefined && p.consumeRate === undefined
        ? '–'
        : `${p.produceRate === undefined ? '–' : rate.format(p.produceRate)} / ${p.consumeRate === undefined ? '–' : rate.format(p.consumeRate)}`
    return el(
      'tr',
      {
        'data-testid': 'partition-row',
        'data-partition': `${p.topic}:${p.partition}`,
        'data-lag': p.lag,
        'data-stalled': stall ? 'true' : undefined,
        class: [p.owner === undefined ? 'unowned' : '', stall ? 'stalled' : ''].filter(Boolean).join(' ') || undefined
      },
      el('th', { scope: 'row', title: `${p.topic} partition ${p.partition}` }, label),
      el(
        'td',
        { class: 'num', 'data-testid': 'log-end', title: `log start ${count(p.logStartOffset)}` },
        count(p.logEndOffset)
      ),
      el('td', { class: 'num', 'data-testid': 'committed' }, committed, stallBadge && ' ', stallBadge),
      el(
        'td',
        {},
        el(
          'div',
          { class: 'lag-cell' },
          el('span', { class: 'n', 'data-testid': 'lag' }, count(p.lag)),
          el('span', { class: 'bar', 'aria-hidden': 'true', 'data-testid': 'lag-bar' }, fill)
        )
      ),
      el('td', { class: 'num', 'data-testid': 'time-lag' }, duration(p.timeLagMs)),
      el('td', { class: 'num' }, rates),
      el('td', { class: 'owner', 'data-testid': 'owner' }, p.owner ?? 'unassigned')
    )
  })
  if (rows.length === 0)
    rows.push(el('tr', { class: 'empty' }, el('td', { colspan: 7 }, 'The topics have no partition.')))
  body.replaceChildren(...rows)
  const withLag = obs.partitions.filter((p) => p.lag > 0).length
  setText('partition-count', `${obs.partitions.length} · ${withLag} with lag`)
}

/** The consumers the backend runs that the health check found out of the group. */
function missingItems(s) {
  const m = s.health?.missing
  if (m === undefined) return []
  if (m.clientIds === undefined) {
    const text = `${m.count} of the ${m.running} consumers the backend runs: not in the group for ${duration(m.forMs)}`
    return [el('li', { class: 'member missing', 'data-testid': 'member-missing' }, text)]
  }
  const text = `not in the group for ${duration(m.forMs)}, though the backend runs it`
  return m.clientIds.map((id) =>
    el(
      'li',
      { class: 'member missing', 'data-testid': 'member-missing' },
      el('div', { class: 'who' }, el('strong', {}, id), el('span', { class: 'why' }, text))
    )
  )
}

function renderMembers(s) {
  const list = byId('members')
  const obs = s.observation
  const missing = missingItems(s)
  if (obs === undefined || obs.members.length === 0) {
    list.replaceChildren(
      el('li', { class: 'empty' }, obs === undefined ? 'No observation yet.' : 'No consumer in the group.'),
      ...missing
    )
    setText('member-count', obs === undefined ? '' : `0 · ${obs.groupState}`)
    return
  }
  const members = [...obs.members].sort(
    (a, b) => a.clientId.localeCompare(b.clientId) || a.memberId.localeCompare(b.memberId)
  )
  list.replaceChildren(
    ...members.map((m) => {
      const held = [...m.partitions].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
      return el(
        'li',
        { class: held.length === 0 ? 'member idle' : 'member', 'data-testid': 'member', 'data-member-id': m.memberId },
        el(
          'div',
          { class: 'who' },
          el('strong', { 'data-testid': 'member-client' }, m.clientId),
          el('span', { class: 'host' }, m.host),
          el(
            'span',
            { class: 'id', title: m.memberId },
            m.memberId.length > 24 ? `${m.memberId.slice(0, 24)}…` : m.memberId
          )
        ),
        held.length === 0
          ? el('p', { class: 'chips-empty', 'data-testid': 'member-partitions' }, 'no partitions: idle')
          : el(
              'ul',
              { class: 'chips', 'data-testid': 'member-partitions', 'aria-label': `partitions held by ${m.clientId}` },
              ...held.map((p) => el('li', { class: 'chip' }, partitionLabel(p.topic, p.partition, s.topics)))
            )
      )
    }),
    ...missing
  )
  const idle = members.filter((m) => m.partitions.length === 0).length
  setText('member-count', `${members.length}${idle > 0 ? ` · ${idle} idle` : ''} · ${obs.groupState}`)
}

const ACTION_TEXT = { 'scale-out': 'scale out', 'scale-in': 'scale in', hold: 'hold' }

function renderDecisions(s) {
  const last = s.decisions.at(-1)
  const key = `${s.decisions.length}:${last?.at}:${last?.reason}`
  if (key === state.decisionsKey) return
  state.decisionsKey = key
  const list = byId('decisions')
  if (s.decisions.length === 0) {
    list.replaceChildren(el('li', { class: 'empty' }, 'No decision yet.'))
    setText('decision-count', '')
    return
  }
  const items = [...s.decisions].reverse().map((d) => {
    const capped = d.cap !== undefined
    const classes = ['decision', `action-${d.action}`, capped ? 'capped' : '', d.bound ? 'bounded' : '']
    const details = []
    if (capped) {
      let text = `Capped: the policy wanted ${d.cap.uncapped}; only ${d.cap.usable} can get work (partitions × parallelism).`
      if (d.cap.recommendedPartitions !== undefined)
        text += ` ${d.cap.recommendedPartitions} partitions would meet the goal.`
      details.push(el('p', { class: 'detail', 'data-testid': 'decision-cap' }, text))
    }
    if (d.estimatedDrainMs !== undefined) {
      details.push(
        el('p', { class: 'detail' }, `Backlog drains in ~${duration(d.estimatedDrainMs)} with ${d.desired}.`)
      )
    }
    return el(
      'li',
      {
        class: classes.filter(Boolean).join(' '),
        'data-testid': 'decision',
        'data-action': d.action,
        'data-capped': String(capped),
        'data-at': d.at
      },
      el(
        'div',
        { class: 'line' },
        el('time', { datetime: new Date(d.at).toISOString() }, timeOf(d.at)),
        el(
          'span',
          { class: `badge action-${d.action}`, 'data-testid': 'decision-action' },
          ACTION_TEXT[d.action] ?? d.action
        ),
        el(
          'span',
          { class: 'counts', 'data-testid': 'decision-counts' },
          `${d.from} → ${d.desired}`,
          el('span', { class: 'visually-hidden' }, ' consumers')
        ),
        capped && el('span', { class: 'badge cap', 'data-testid': 'decision-capped' }, 'capped by partitions'),
        d.bound && el('span', { class: 'badge bound' }, `at ${d.bound} limit`),
        !d.applied && d.action !== 'hold' && el('span', { class: 'badge muted' }, 'not applied'),
        d.health &&
          el('span', { class: 'badge unhealthy', 'data-testid': 'decision-unhealthy' }, 'consumers unhealthy'),
        d.health?.replaced && el('span', { class: 'badge replaced' }, `replaced ${d.health.replaced.length}`),
        el('span', { class: 'badge muted' }, d.policy)
      ),
      el('p', { class: 'reason', 'data-testid': 'decision-reason' }, d.reason),
      ...details
    )
  })
  list.replaceChildren(...items)
  const caps = s.decisions.filter((d) => d.cap !== undefined).length
  setText('decision-count', `${s.decisions.length}${caps > 0 ? ` · ${caps} capped` : ''}`)
}

function pairs(list, entries) {
  list.replaceChildren(...entries.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))))
}

function renderLimits(s) {
  const l = s.limits
  pairs(byId('limits'), [
    ['Min consumers', count(l.min)],
    ['Max consumers', count(l.max)],
    ['Scale-out cooldown', duration(l.scaleOutCooldownMs)],
    ['Scale-in cooldown', duration(l.scaleInCooldownMs)],
    ['Consumers per partition', count(l.parallelismPerPartition)],
    ['Observation interval', duration(s.intervalMs)]
  ])
  const detail = Object.entries(s.status.detail ?? {}).map(([k, v]) => [
    k,
    typeof v === 'string' ? v : JSON.stringify(v)
  ])
  pairs(byId('backend-detail'), detail)
}

function render() {
  state.renderQueued = false
  const s = state.latest
  if (s === undefined) return
  renderHeader(s)
  renderBanner(s)
  renderNumbers(s)
  renderHealth(s)
  renderPartitions(s)
  renderMembers(s)
  renderDecisions(s)
  renderLimits(s)
  drawCharts()
  renderConnection()
}

function ingest(s) {
  if (typeof s?.at !== 'number' || s.at <= state.lastAt) return
  record(s)
  state.lastAt = s.at
  state.latest = s
  state.receivedAt = Date.now()
  if (!state.renderQueued) {
    state.renderQueued = true
    // One render for a burst (the history, a replay after a reconnect); a hidden tab renders when shown.
    requestAnimationFrame(render)
  }
}

// ---------- connection

function renderConnection() {
  const box = byId('connection')
  const s = state.latest
  let name = 'connecting'
  let title = 'Opening the event stream'
  if (!state.open) {
    if (state.failed) {
      name = 'disconnected'
      title = 'The event stream dropped; reconnecting'
    }
  } else if (s === undefined) {
    name = 'live'
    title = 'Connected; waiting for the first snapshot'
  } else {
    const quietMs = Date.now() - state.receivedAt
    const staleAfter = Math.max(3 * s.intervalMs, STALE_FLOOR_MS)
    if (s.observation?.stale) {
      name = 'stale'
      title = `The last observation failed${s.observation.error ? `: ${s.observation.error}` : ''}`
    } else if (quietMs > staleAfter) {
      name = 'stale'
      title = `No snapshot for ${duration(quietMs)}`
    } else {
      name = 'live'
      title = `Last snapshot at ${timeOf(s.at)}`
    }
  }
  if (box.dataset.state !== name) {
    box.dataset.state = name
    setText('connection-text', name)
  }
  box.title = title
}

function connect() {
  const url = state.lastAt > 0 ? `api/events?since=${state.lastAt}` : 'api/events'
  const source = new EventSource(url)
  state.source = source
  source.addEventListener('open', () => {
    state.open = true
    state.failed = false
    state.reconnectMs = RECONNECT_MIN_MS
    renderConnection()
  })
  source.addEventListener('snapshot', (event) => {
    try {
      ingest(JSON.parse(event.data))
    } catch (err) {
      console.error('lagscale dashboard: a snapshot it could not read', err)
    }
  })
  source.addEventListener('error', () => {
    state.open = false
    state.failed = true
    renderConnection()
    // The browser retries by itself, unless the server answered something else than an event stream.
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(connect, state.reconnectMs)
      state.reconnectMs = Math.min(state.reconnectMs * 2, RECONNECT_MAX_MS)
    }
  })
}

byId('show-holds').addEventListener('change', (event) => {
  byId('decisions').classList.toggle('hide-holds', !event.target.checked)
})

setInterval(renderConnection, 1000)

async function start() {
  try {
    const response = await fetch('api/history', { cache: 'no-store' })
    if (response.ok) {
      const history = await response.json()
      if (Number.isInteger(history.limit) && history.limit > 0) state.limit = history.limit
      for (const s of history.snapshots) ingest(s)
    }
  } catch (err) {
    console.warn('lagscale dashboard: no history', err)
  }
  connect()
}

start()
