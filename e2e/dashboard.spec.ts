// Proves the operator dashboard shows what the aggregator's status says, live, and in full only to the
// operator.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import AxeBuilder from '@axe-core/playwright'
import {
  encodeUpdate,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  newRandomId,
  parseErrorBody,
  parsePublicStatus,
  parseRoundInfo,
  parseStatus,
  type RoundInfo,
  type Status,
  UPDATE_MEDIA_TYPE,
} from '@fedrec/protocol'
import { expect, type Page, type Request, test } from '@playwright/test'
import { type RunningAggregator, startAggregator } from './aggregator.ts'

// The operator dashboard (apps/aggregator/src/dashboard) against a real aggregator process: rounds driven
// by real binary updates, bad updates and evaluation reports over HTTP; the page in real Chromium.

const TOKEN = randomBytes(18).toString('base64url')
const QUORUM = 2
const NUM_ITEMS = 48
const MAX_SAMPLES = 500
const CHARTS = ['rounds', 'participants', 'samples', 'norms', 'quality'] as const

let agg: RunningAggregator | undefined
let catalogueDir: string | undefined

test.beforeEach(async () => {
  catalogueDir = mkdtempSync(join(tmpdir(), 'fedrec-dashboard-'))
  const catalogue = join(catalogueDir, 'catalogue.json')
  writeFileSync(catalogue, JSON.stringify(Array.from({ length: NUM_ITEMS }, (_, i) => `sku-${i}`)))
  agg = await startAggregator([
    '--catalogue',
    catalogue,
    '--dim',
    '8',
    '--min-clients',
    String(QUORUM),
    '--round-deadline',
    '3600',
    '--max-sample-count',
    String(MAX_SAMPLES),
    // The test's updates claim n_k freely on three rows; the bound by rows has its own tests.
    '--negatives',
    '1000',
    '--operator-token',
    TOKEN,
    // The test reports several users at once to check the averages; a browser sends one per report.
    '--max-evaluation-users',
    '4',
  ])
})

test.afterEach(async () => {
  await agg?.stop()
  agg = undefined
  if (catalogueDir) rmSync(catalogueDir, { recursive: true, force: true })
})

function api(path: string, init?: RequestInit): Promise<Response> {
  if (!agg) throw new Error('no aggregator running')
  return fetch(new URL(path, agg.url), init)
}

/** `/v1/status` with the operator token: the live view the dashboard draws. */
async function status(): Promise<Status> {
  const res = await api('v1/status', { headers: { Authorization: `Bearer ${TOKEN}` } })
  expect(res.status).toBe(200)
  return parseStatus(await res.json())
}

async function roundInfo(): Promise<RoundInfo> {
  return parseRoundInfo(await (await api('v1/round')).json())
}

/** A real binary update for the open round: small deltas on a few rows, from a fresh client. */
function update(
  info: RoundInfo,
  sampleCount: number,
  overrides: { modelVersion?: number; clientId?: string } = {},
) {
  const rows = [...new Set(Array.from({ length: 3 }, () => Math.floor(Math.random() * info.numItems)))].sort(
    (a, b) => a - b,
  )
  const small = (n: number) => Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 0.02)
  return encodeUpdate({
    round: info.round,
    modelVersion: overrides.modelVersion ?? info.modelVersion,
    clientId: overrides.clientId ?? newRandomId(),
    idempotencyKey: newRandomId(),
    sampleCount,
    tensors: [
      {
        name: ITEM_EMBEDDING,
        cols: info.dim,
        rowIds: Uint32Array.from(rows),
        values: small(rows.length * info.dim),
      },
      { name: ITEM_BIAS, cols: 1, rowIds: Uint32Array.from(rows), values: small(rows.length) },
    ],
  })
}

function postUpdate(bytes: Uint8Array): Promise<Response> {
  const body = new Uint8Array(bytes.byteLength) // fetch wants a view on an ArrayBuffer, not any buffer
  body.set(bytes)
  return api('v1/updates', { method: 'POST', headers: { 'Content-Type': UPDATE_MEDIA_TYPE }, body })
}

/** Closes the open round on quorum: one accepted update per entry of `samples`; returns the client ids. */
async function playRound(samples: readonly number[]): Promise<string[]> {
  expect(samples.length).toBe(QUORUM)
  const info = await roundInfo()
  const clients: string[] = []
  for (const n of samples) {
    const clientId = newRandomId()
    const res = await postUpdate(update(info, n, { clientId }))
    expect(res.status, await res.clone().text()).toBe(200)
    clients.push(clientId)
  }
  expect((await roundInfo()).round).toBe(info.round + 1)
  return clients
}

/**
 * A client's federated-evaluation sums for the current model. Only a client with an accepted update in the
 * round that published it (or trains on it) may report, once per version.
 */
async function report(clientId: string, users: number, hits10: number, ndcg10: number): Promise<void> {
  const info = await roundInfo()
  const res = await api('v1/evaluations', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      round: info.round,
      modelVersion: info.modelVersion,
      clientId,
      idempotencyKey: newRandomId(),
      users,
      hits10,
      ndcg10,
    }),
  })
  expect(res.status, await res.clone().text()).toBe(200)
}

/** Updates the aggregator must refuse, each for a different reason; returns the codes it answered. */
async function badUpdates(): Promise<string[]> {
  const info = await roundInfo()
  const codes: string[] = []
  const refused = async (res: Promise<Response>) => {
    const r = await res
    expect(r.status).toBeGreaterThanOrEqual(400)
    codes.push(parseErrorBody(await r.json()).error.code)
  }
  await refused(postUpdate(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])))
  await refused(postUpdate(update(info, MAX_SAMPLES + 1)))
  await refused(postUpdate(update(info, 10, { modelVersion: info.modelVersion - 1 })))
  await refused(postUpdate(update(info, 10, { modelVersion: info.modelVersion - 1 })))
  return codes
}

/** What each chart holds: its ECharts instance's series lengths and the first series' values. */
async function chartSeries(page: Page): Promise<Record<string, { lengths: number[]; first: unknown[] }>> {
  return page.evaluate((names) => {
    const lib: unknown = Reflect.get(globalThis, 'echarts')
    if (typeof lib !== 'object' || lib === null || !('getInstanceByDom' in lib)) throw new Error('no ECharts')
    const getInstanceByDom = lib.getInstanceByDom
    if (typeof getInstanceByDom !== 'function') throw new Error('no ECharts')
    const out: Record<string, { lengths: number[]; first: unknown[] }> = {}
    for (const name of names) {
      const el = document.querySelector(`[data-chart="${name}"]`)
      const chart = el && getInstanceByDom(el)
      if (!chart) throw new Error(`chart ${name} has no ECharts instance`)
      const canvas = el.querySelector('canvas')
      if (!canvas || canvas.width === 0 || canvas.height === 0) throw new Error(`chart ${name} has no canvas`)
      const series: Array<{ data: unknown[] }> = chart.getOption().series
      out[name] = { lengths: series.map((s) => s.data.length), first: series[0]?.data ?? [] }
    }
    return out
  }, CHARTS)
}

const stat = (page: Page, name: string) => page.locator(`[data-stat="${name}"]`)

/** The numbers on the page must be the status's numbers, and the charts must hold one point per round. */
async function expectPageShows(page: Page, s: Status): Promise<void> {
  await expect(stat(page, 'round')).toHaveAttribute('data-value', String(s.round))
  await expect(stat(page, 'round')).toHaveText(s.round.toLocaleString('en'))
  await expect(stat(page, 'modelVersion')).toHaveText(`v${s.modelVersion}`)
  await expect(stat(page, 'modelBytes')).toHaveAttribute('data-value', String(s.modelBytes))
  await expect(stat(page, 'modelBytes')).toHaveText(
    s.modelBytes < 1024 ? `${s.modelBytes} B` : `${(s.modelBytes / 1024).toFixed(1)} KiB`,
  )
  await expect(stat(page, 'participants')).toHaveText(String(s.participants))
  await expect(stat(page, 'samples')).toHaveText(s.samples.toLocaleString('en'))
  await expect(stat(page, 'roundsClosed')).toHaveText(String(s.history.length))
  const rejected = Object.values(s.rejections).reduce((a, b) => a + b, 0)
  await expect(stat(page, 'rejected')).toHaveText(String(rejected))
  for (const [code, n] of Object.entries(s.rejections)) {
    await expect(page.locator(`#rejections tr[data-reason="${code}"] td.num`)).toHaveText(String(n))
  }
  await expect(page.locator('#rejections tr[data-reason]')).toHaveCount(Object.keys(s.rejections).length)
  const latest = s.evaluations.reduce<Status['evaluations'][number] | undefined>(
    (a, e) => (!a || e.modelVersion > a.modelVersion ? e : a),
    undefined,
  )
  if (latest) {
    await expect(stat(page, 'hr10')).toHaveText(latest.hr10.toFixed(3))
    await expect(stat(page, 'hr10')).toHaveAttribute('data-value', String(latest.hr10))
    await expect(stat(page, 'ndcg10')).toHaveText(latest.ndcg10.toFixed(3))
  }
  const rounds = s.history.length
  await expect
    .poll(async () =>
      Object.fromEntries(Object.entries(await chartSeries(page)).map(([k, v]) => [k, v.lengths])),
    )
    .toEqual({
      rounds: [rounds],
      participants: [rounds],
      samples: [rounds],
      norms: [rounds, rounds, rounds],
      quality: [s.evaluations.length, s.evaluations.length],
    })
  const charts = await chartSeries(page)
  expect(charts.participants?.first).toEqual(s.history.map((r) => r.participants))
  expect(charts.samples?.first).toEqual(s.history.map((r) => r.samples))
  expect(charts.norms?.first).toEqual(s.history.map((r) => r.updateNorm))
  expect(charts.quality?.first).toEqual(s.evaluations.map((e) => e.hr10))
}

/** Bytes the page received (encoded, as on the wire) by path, and how its polls were answered. */
async function transfers(requests: readonly Request[]) {
  const bytes: Record<string, number> = {}
  const polls: Record<string, number> = {}
  for (const r of requests) {
    const res = await r.response()
    if (!res) continue
    const path = new URL(r.url()).pathname
    if (path === '/v1/dashboard') polls[res.status()] = (polls[res.status()] ?? 0) + 1
    bytes[path] = Math.max(bytes[path] ?? 0, (await r.sizes()).responseBodySize)
  }
  return { bytes, polls }
}

function watch(page: Page): { errors: string[]; requests: Request[] } {
  const errors: string[] = []
  const requests: Request[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning')
      errors.push(`console.${msg.type()}: ${msg.text()}`)
  })
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`))
  page.on('request', (r) => requests.push(r))
  return { errors, requests }
}

test('the dashboard shows what /v1/status says, draws it, and follows new rounds live', async ({
  page,
}, testInfo) => {
  const first = await playRound([12, 30])
  await report(first[0]!, 1, 1, 0.63)
  await report(first[1]!, 1, 0, 0)
  const second = await playRound([7, 9])
  const codes = await badUpdates()
  await report(second[0]!, 2, 1, 0.5)
  await playRound([40, 21])
  // An update in the open round, so the open round's numbers are not zero.
  const info = await roundInfo()
  const openClient = newRandomId()
  expect((await postUpdate(update(info, 17, { clientId: openClient }))).status).toBe(200)

  const before = await status()
  expect(before.history).toHaveLength(3)
  expect(before.participants).toBe(1)
  expect(Object.values(before.rejections).reduce((a, b) => a + b, 0)).toBe(codes.length)
  expect(before.evaluations.length).toBeGreaterThanOrEqual(2)
  // Without the token: the closed rounds (each met the quorum), none of the open round's live figures, no
  // rejections, and no evaluation of a version that still takes reports.
  const anonymous: unknown = await (await api('v1/status')).json()
  expect(anonymous).not.toHaveProperty('participants')
  expect(anonymous).not.toHaveProperty('samples')
  expect(anonymous).not.toHaveProperty('rejections')
  expect(parsePublicStatus(anonymous)).toMatchObject({
    round: before.round,
    history: before.history,
    evaluations: [],
  })

  const { errors, requests } = watch(page)
  await page.goto(`${agg!.url}dashboard#token=${TOKEN}`)
  await expect(page.locator('#board')).toBeVisible()
  // The token leaves the address bar (and the history) at once.
  expect(new URL(page.url()).hash).toBe('')
  await expectPageShows(page, before)
  // The page says what of it an anonymous caller of /v1/status can see.
  await expect(stat(page, 'viewNote')).toContainText('Operator view. Without the token')
  await expect(stat(page, 'viewNote')).toHaveAttribute('data-value', String(QUORUM))
  await expect(page.locator('#rounds tr[data-public="true"]')).toHaveCount(3)
  await expect(page.locator('#live')).toHaveAttribute('data-state', 'live')
  await expect(page.locator('#rounds tr[data-round]')).toHaveCount(3)
  // Issue 15: every panel holds something, each once — the rejections are a table, not also a chart…
  await expect(page.getByText('Rejected updates by reason', { exact: true })).toHaveCount(1)
  await expect(page.locator('.charts figure')).toHaveCount(6)
  // …and the rounds, closed within this test's minutes, are drawn over those minutes, not over days.
  const closes = before.history.map((r) => Date.parse(r.closedAt))
  const axis = await page.evaluate(() => {
    const lib: unknown = Reflect.get(globalThis, 'echarts')
    if (typeof lib !== 'object' || lib === null || !('getInstanceByDom' in lib)) throw new Error('no ECharts')
    const getInstanceByDom = lib.getInstanceByDom
    if (typeof getInstanceByDom !== 'function') throw new Error('no ECharts')
    const chart = getInstanceByDom(document.querySelector('[data-chart="rounds"]'))
    const extent: unknown = chart.getModel().getComponent('xAxis', 0).axis.scale.getExtent()
    if (!Array.isArray(extent) || extent.length !== 2) throw new Error('no time axis')
    return { min: Number(extent[0]), max: Number(extent[1]) }
  })
  expect(axis.min).toBeLessThanOrEqual(Math.min(...closes))
  expect(axis.max).toBeGreaterThanOrEqual(Math.max(...closes))
  expect(axis.max - axis.min).toBeLessThan(10 * 60_000)

  await testInfo.attach('dashboard', {
    body: await page.screenshot({ fullPage: true, path: testInfo.outputPath('dashboard.png') }),
    contentType: 'image/png',
  })

  // A new round and a new evaluation arrive while the page is open: it follows without a reload.
  await page.evaluate(() => Reflect.set(globalThis, 'stillTheSamePage', true))
  const posted = performance.now()
  expect((await postUpdate(update(info, 5))).status).toBe(200)
  await report(openClient, 4, 3, 2.2)
  const after = await status()
  expect(after.history).toHaveLength(4)
  await expect(stat(page, 'round')).toHaveAttribute('data-value', String(after.round), { timeout: 15_000 })
  const newRoundShownAfterMs = Math.round(performance.now() - posted)
  await expectPageShows(page, after)
  expect(await page.evaluate(() => Reflect.get(globalThis, 'stillTheSamePage'))).toBe(true)

  // Stay until the unchanged answers (304, nothing new since the last round) show in the numbers.
  await expect
    .poll(async () => (await transfers(requests)).polls['304'] ?? 0, { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2)
  const measured = { newRoundShownAfterMs, ...(await transfers(requests)) }
  testInfo.annotations.push({ type: 'measured', description: JSON.stringify(measured) })
  console.info(`dashboard: ${JSON.stringify(measured)}`)

  const axe = await new AxeBuilder({ page }).analyze()
  const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([])

  // The token travels in headers only: never in a URL the page asked for.
  expect(requests.filter((r) => r.url().includes(TOKEN)).map((r) => r.url())).toEqual([])
  expect(requests.some((r) => r.url().endsWith('/v1/dashboard'))).toBe(true)
  expect(requests.filter((r) => !r.url().startsWith(agg!.url)).map((r) => r.url())).toEqual([])
  expect(errors).toEqual([])
})

test('without the right token the page asks for it, says why, and opens once it is given', async ({
  page,
}, testInfo) => {
  const { errors } = watch(page)
  await page.goto(`${agg!.url}dashboard`)
  await expect(page.getByRole('heading', { name: 'Operator token' })).toBeVisible()
  await expect(page.locator('#board')).toBeHidden()
  // An anonymous visitor is told what the public status shows, and what only the operator sees.
  await expect(page.locator('#public-view')).toContainText('Without the token, anyone can read')
  await expect(page.locator('#public-view')).toContainText('for the operator only')

  await page.getByRole('textbox', { name: 'Operator token' }).fill('not-the-token')
  await page.getByRole('button', { name: 'Open the dashboard' }).click()
  await expect(page.getByRole('alert').filter({ hasText: '401' })).toBeVisible()
  await expect(page.locator('#board')).toBeHidden()
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0)

  await page.getByRole('textbox', { name: 'Operator token' }).fill(TOKEN)
  await page.getByRole('button', { name: 'Open the dashboard' }).click()
  await expect(page.locator('#board')).toBeVisible()
  await expect(stat(page, 'round')).toHaveAttribute('data-value', '0')
  await expect(page.locator('#rounds')).toContainText('No round closed yet')
  await testInfo.attach('dashboard-empty', {
    body: await page.screenshot({ fullPage: true, path: testInfo.outputPath('dashboard-empty.png') }),
    contentType: 'image/png',
  })
  // A reload keeps the token for this tab only.
  await page.reload()
  await expect(page.locator('#board')).toBeVisible()
  await page.getByRole('button', { name: 'Forget token' }).click()
  await expect(page.getByRole('heading', { name: 'Operator token' })).toBeVisible()
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
  // The browser logs the refused request itself (a 401 "Failed to load resource"); nothing else may appear.
  expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([])
})
