import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { parseErrorBody } from '@fedrec/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { type Aggregator, createAggregator } from '../aggregator/index.ts'
import { createApp } from '../app/index.ts'
import { catalogueOf } from '../test-support.ts'

let open: Aggregator[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(open.map((a) => a.close()))
  open = []
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A folder laid out like the built @fedrec/browser: entries, a chunk, the worker, a .wasm, types, manifest. */
function fakeBundle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedrec-bundle-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'element.js'), "import './chunk-AB12.js'\n")
  writeFileSync(join(dir, 'chunk-AB12.js'), `export const x = '${'a'.repeat(4000)}'\n`)
  writeFileSync(join(dir, 'worker.js'), 'self.onmessage = () => {}\n')
  writeFileSync(join(dir, 'tfjs-backend-wasm.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))
  writeFileSync(join(dir, 'index.d.ts'), 'export {}\n')
  writeFileSync(join(dir, 'package.json'), '{}\n')
  mkdirSync(join(dir, 'sub'))
  writeFileSync(join(dir, 'sub', 'secret.js'), 'nope\n')
  return dir
}

async function setup(browserBundleDir: string | null, corsOrigins = ['https://shop.example']) {
  const aggregator = await createAggregator({
    store: ':memory:',
    catalogue: catalogueOf(4),
    dim: 4,
    seed: 1,
    deadlineTimer: false,
  })
  open.push(aggregator)
  return createApp(aggregator, { corsOrigins, maxBodyBytes: 1 << 20, operatorToken: 't', browserBundleDir })
}

describe('GET /fedrec/<file> (the browser bundle for shops without a build step)', () => {
  it('serves the scripts as JavaScript and the .wasm as application/wasm, to the shop origin', async () => {
    const app = await setup(fakeBundle())
    const headers = { Origin: 'https://shop.example' }
    const element = await app.request('/fedrec/element.js', { headers })
    expect(element.status).toBe(200)
    expect(element.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(element.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    expect(element.headers.get('cross-origin-resource-policy')).toBe('cross-origin')
    expect(await element.text()).toBe("import './chunk-AB12.js'\n")
    const wasm = await app.request('/fedrec/tfjs-backend-wasm.wasm', { headers })
    expect(wasm.headers.get('content-type')).toBe('application/wasm')
    expect([...new Uint8Array(await wasm.arrayBuffer())]).toEqual([0, 97, 115, 109, 1, 0, 0, 0])
    expect((await app.request('/fedrec/worker.js')).status).toBe(200)
  })

  it('gzips for clients that accept it and answers 304 to a matching ETag', async () => {
    const app = await setup(fakeBundle())
    const zipped = await app.request('/fedrec/chunk-AB12.js', { headers: { 'Accept-Encoding': 'gzip' } })
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    const bytes = new Uint8Array(await zipped.arrayBuffer())
    expect(bytes.byteLength).toBeLessThan(200)
    expect(gunzipSync(bytes).toString()).toBe(`export const x = '${'a'.repeat(4000)}'\n`)
    const tag = zipped.headers.get('etag')
    expect(tag).toMatch(/^"[\w-]{27}"$/)
    const again = await app.request('/fedrec/chunk-AB12.js', { headers: { 'If-None-Match': tag! } })
    expect(again.status).toBe(304)
  })

  it('serves nothing but the folder’s own .js and .wasm files', async () => {
    const app = await setup(fakeBundle())
    for (const path of [
      '/fedrec/index.d.ts',
      '/fedrec/package.json',
      '/fedrec/nope.js',
      '/fedrec/sub%2Fsecret.js',
      '/fedrec/../package.json',
      '/fedrec/',
    ]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
    }
    const body = parseErrorBody(await (await app.request('/fedrec/nope.js')).json())
    expect(body.error).toEqual({ code: 'not_found', message: 'the browser bundle has no file nope.js' })
  })

  it('says how to get a bundle when the aggregator has none', async () => {
    const res = await (await setup(null)).request('/fedrec/element.js')
    expect(res.status).toBe(404)
    const body = parseErrorBody(await res.json())
    expect(body.error.message).toContain('npm run build:packages')
  })
})
