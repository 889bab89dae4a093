import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { gunzipSync } from 'node:zlib'
import { parseErrorBody, parseStatus, type Status, UPDATE_MEDIA_TYPE } from '@fedrec/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { type Aggregator, createAggregator } from '../aggregator/index.ts'
import { createApp } from '../app/index.ts'
import { catalogueOf, randomUpdate } from '../test-support.ts'
import { DASHBOARD_CSP } from './index.ts'

const TOKEN = 'operator-secret'
const DIM = 4
const NUM_ITEMS = 6

let open: Aggregator[] = []
afterEach(async () => {
  await Promise.all(open.map((a) => a.close()))
  open = []
})

async function setup() {
  const aggregator = await createAggregator({
    negativesPerPositive: 1000,
    store: ':memory:',
    catalogue: catalogueOf(NUM_ITEMS),
    dim: DIM,
    seed: 3,
    minClients: 2,
    deadlineTimer: false,
  })
  open.push(aggregator)
  const app = createApp(aggregator, { corsOrigins: ['*'], maxBodyBytes: 1 << 20, operatorToken: TOKEN })
  return { app, aggregator }
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

/** The body of `GET /v1/dashboard`: exactly `{ status, publicQuorum }`, a valid Status and the quorum. */
async function dashboardStatus(res: Response): Promise<Status> {
  const body: unknown = await res.json()
  if (typeof body !== 'object' || body === null || !('status' in body) || !('publicQuorum' in body))
    throw new Error(`not a dashboard body: ${JSON.stringify(body)}`)
  expect(Object.keys(body)).toEqual(['status', 'publicQuorum'])
  // The rounds the public status shows are those closed with at least the quorum.
  expect(body.publicQuorum).toBe(parseStatus(body.status).config.minClients)
  return parseStatus(body.status)
}

describe('GET /dashboard (the page)', () => {
  it('serves the HTML shell with a strict CSP, no inline script or style, and no data', async () => {
    const { app } = await setup()
    const res = await app.request('/dashboard')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
    expect(DASHBOARD_CSP).toContain("script-src 'self'")
    expect(DASHBOARD_CSP).not.toContain('unsafe')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await res.text()
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBe(2)
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="dashboard\/assets\/[a-z.]+\.js"/)
      expect(body?.trim()).toBe('')
    }
    expect(html).not.toMatch(/<style\b|\sstyle="|\son[a-z]+="/i)
    expect(html).not.toContain(TOKEN)
  })

  it('serves every file the page and its modules refer to, ECharts from node_modules', async () => {
    const { app } = await setup()
    const html = await (await app.request('/dashboard')).text()
    const fromHtml = [...html.matchAll(/(?:src|href)="dashboard\/assets\/([^"]+)"/g)].map((m) => m[1]!)
    expect(fromHtml.sort()).toEqual(['dashboard.css', 'dashboard.js', 'echarts.min.js'])
    const modules = ['dashboard.js', 'charts.js', 'data.js']
    const imported = new Set<string>()
    for (const name of modules) {
      const js = await (await app.request(`/dashboard/assets/${name}`)).text()
      for (const m of js.matchAll(/^import .* from '\.\/([^']+)'/gm)) imported.add(m[1]!)
    }
    expect([...imported].sort()).toEqual(['charts.js', 'data.js'])
    for (const name of [...fromHtml, ...imported]) {
      const res = await app.request(`/dashboard/assets/${name}`)
      expect(res.status, name).toBe(200)
      expect(res.headers.get('content-type'), name).toBe(
        name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      )
      expect(res.headers.get('content-security-policy'), name).toBe(DASHBOARD_CSP)
    }
    const echarts = new Uint8Array(
      await (await app.request('/dashboard/assets/echarts.min.js')).arrayBuffer(),
    )
    const onDisk = readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'))
    expect(echarts.byteLength).toBe(onDisk.byteLength)
    expect(Buffer.from(echarts).equals(onDisk)).toBe(true)
  })

  it('sends gzip to browsers that take it, the same bytes once unzipped', async () => {
    const { app } = await setup()
    const plain = new Uint8Array(await (await app.request('/dashboard/assets/echarts.min.js')).arrayBuffer())
    const res = await app.request('/dashboard/assets/echarts.min.js', {
      headers: { 'Accept-Encoding': 'gzip, deflate, br' },
    })
    expect(res.headers.get('content-encoding')).toBe('gzip')
    expect(res.headers.get('vary')).toBe('Accept-Encoding')
    const zipped = new Uint8Array(await res.arrayBuffer())
    expect(zipped.byteLength).toBeLessThan(plain.byteLength / 2)
    expect(gunzipSync(zipped).equals(plain)).toBe(true)
    const refused = await app.request('/dashboard/assets/echarts.min.js', {
      headers: { 'Accept-Encoding': 'gzip;q=0, identity' },
    })
    expect(refused.headers.get('content-encoding')).toBeNull()
  })

  it('answers a revalidation with 304 and refuses names it does not serve', async () => {
    const { app } = await setup()
    const first = await app.request('/dashboard/assets/dashboard.js')
    const tag = first.headers.get('etag')
    expect(tag).toMatch(/^"[\w-]+"$/)
    expect(first.headers.get('cache-control')).toBe('no-cache')
    const again = await app.request('/dashboard/assets/dashboard.js', { headers: { 'If-None-Match': tag! } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    for (const path of [
      '/dashboard/assets/index.html',
      '/dashboard/assets/nope.js',
      '/dashboard/assets/..%2Findex.ts',
      '/dashboard/assets/../index.ts',
    ]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
      expect(parseErrorBody(await res.json()).error.code).toBe('not_found')
    }
  })

  it('redirects /dashboard/ to /dashboard, relatively, so the page works under a path prefix', async () => {
    const { app } = await setup()
    const res = await app.request('/dashboard/')
    expect(res.status).toBe(308)
    expect(res.headers.get('location')).toBe('../dashboard')
  })
})

describe('GET /v1/dashboard (its data)', () => {
  it('needs the operator token: 401 with a JSON error and WWW-Authenticate otherwise', async () => {
    const { app } = await setup()
    for (const headers of [
      {},
      bearer('wrong'),
      { Authorization: TOKEN },
      { Authorization: `Basic ${TOKEN}` },
    ]) {
      const res = await app.request('/v1/dashboard', { headers })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /)
      expect(parseErrorBody(await res.json()).error.code).toBe('unauthorized')
    }
  })

  it('returns the status, never cached by anyone, with an ETag that changes when a round closes', async () => {
    const { app, aggregator } = await setup()
    const res = await app.request('/v1/dashboard', { headers: bearer(TOKEN) })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    const status = await dashboardStatus(res)
    expect(status).toEqual(await aggregator.status())
    expect(status.history).toEqual([])

    const tag = res.headers.get('etag')!
    const unchanged = await app.request('/v1/dashboard', {
      headers: { ...bearer(TOKEN), 'If-None-Match': tag },
    })
    expect(unchanged.status).toBe(304)
    expect(unchanged.headers.get('etag')).toBe(tag)

    for (const seed of [1, 2]) {
      const { bytes } = randomUpdate(0, 0, { numItems: NUM_ITEMS, dim: DIM, seed, sampleCount: 5 + seed })
      const posted = await app.request('/v1/updates', {
        method: 'POST',
        headers: { 'Content-Type': UPDATE_MEDIA_TYPE },
        body: bytes,
      })
      expect(posted.status).toBe(200)
    }
    const changed = await app.request('/v1/dashboard', {
      headers: { ...bearer(TOKEN), 'If-None-Match': tag },
    })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(tag)
    const after = await dashboardStatus(changed)
    expect(after.history.map((r) => [r.round, r.participants, r.samples])).toEqual([[0, 2, 13]])
    expect(after.round).toBe(1)
  })
})
