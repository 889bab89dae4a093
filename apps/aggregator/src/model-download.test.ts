// GET /v1/model and GET /v1/model?since= against a real aggregator process: the plain route as it always
// was, patches that rebuild the served model exactly (also after a SIGKILL and restart: the change log is
// written in the round-closing transaction), the whole model when the log does not reach back, and 400
// `bad_since` for a version that is not one.
import { writeFileSync } from 'node:fs'
import {
  applyModelPatch,
  decodeModel,
  decodeModelPatch,
  MODEL_MEDIA_TYPE,
  MODEL_PATCH_MEDIA_TYPE,
  parseErrorBody,
  parseRoundInfo,
} from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { getJson, postUpdate, type Running, start, stop, useScratchDir } from './test-process.ts'
import { catalogueOf, randomUpdate } from './test-support.ts'

const inDir = useScratchDir('fedrec-model-')

const NUM_ITEMS = 500
const DIM = 8
const TOKEN = 'operator-secret-for-tests'

const args = (...extra: string[]) => [
  '--port',
  '0',
  '--store',
  inDir('s.sqlite'),
  '--dim',
  String(DIM),
  '--seed',
  '9',
  '--min-clients',
  '2',
  '--client-rate',
  '0',
  '--ip-rate',
  '0',
  '--operator-token',
  TOKEN,
  ...extra,
]

async function get(server: Running, query = '', headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/v1/model${query}`, { headers })
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) }
}

/** Two updates of a few rows each: the quorum, so the round closes. */
async function closeRound(server: Running, seed: number): Promise<void> {
  const { round, modelVersion } = parseRoundInfo(await getJson(`${server.url}/v1/round`))
  for (const c of [0, 1]) {
    const u = randomUpdate(round, modelVersion, { numItems: NUM_ITEMS, dim: DIM, seed: seed * 10 + c + 1 })
    expect((await postUpdate(server.url, u.bytes)).status).toBe(200)
  }
  await expect
    .poll(async () => parseRoundInfo(await getJson(`${server.url}/v1/round`)).modelVersion)
    .toBe(modelVersion + 1)
}

describe('GET /v1/model?since=', () => {
  it('answers a patch that rebuilds the served model byte for byte, across catalogue growth and a SIGKILL', async () => {
    let server = await start(args('--init', '--catalogue', catalogueFile()))
    const v0 = (await get(server)).bytes
    await closeRound(server, 1)
    const added = await fetch(`${server.url}/v1/catalogue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ itemIds: ['late-a', 'late-b'] }),
    })
    expect(added.status).toBe(200)
    await closeRound(server, 2)

    // Killed without warning: whatever was acknowledged as published must be patchable after the restart.
    expect(await stop(server, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' })
    server = await start(args())
    const full = await get(server)
    expect(full.res.headers.get('content-type')).toBe(MODEL_MEDIA_TYPE)
    expect(full.res.headers.get('etag')).toBe('"v2"')

    const patch = await get(server, '?since=0')
    expect(patch.res.status).toBe(200)
    expect(patch.res.headers.get('content-type')).toBe(MODEL_PATCH_MEDIA_TYPE)
    expect(patch.res.headers.get('etag')).toBe('"v2"')
    expect(patch.bytes.byteLength * 10).toBeLessThan(full.bytes.byteLength)
    const decoded = decodeModelPatch(patch.bytes)
    expect(decoded).toMatchObject({ fromVersion: 0, modelVersion: 2, addedItemIds: ['late-a', 'late-b'] })
    const rebuilt = await applyModelPatch(decodeModel(v0), decoded)
    expect(rebuilt.bytes).toEqual(full.bytes)
  })

  it('keeps the plain route and its ETag / 304 as they were; a matching If-None-Match is a 304 with since too', async () => {
    const server = await start(args('--init', '--catalogue', catalogueFile()))
    await closeRound(server, 3)
    const plain = await get(server)
    expect(plain.res.status).toBe(200)
    expect(plain.res.headers.get('content-type')).toBe(MODEL_MEDIA_TYPE)
    expect(plain.res.headers.get('cache-control')).toBe('no-cache')
    expect((await get(server, '', { 'if-none-match': '"v1"' })).res.status).toBe(304)
    expect((await get(server, '', { 'if-none-match': '"v0"' })).res.status).toBe(200)
    const same = await get(server, '?since=1', { 'if-none-match': '"v1"' })
    expect(same.res.status).toBe(304)
    expect(same.bytes.byteLength).toBe(0)
    // An old version behind a stale tag: the patch.
    const behind = await get(server, '?since=0', { 'if-none-match': '"v0"' })
    expect(behind.res.headers.get('content-type')).toBe(MODEL_PATCH_MEDIA_TYPE)
  })

  it('answers the whole model when the log does not reach back to since (--model-log)', async () => {
    const server = await start(args('--init', '--catalogue', catalogueFile(), '--model-log', '1'))
    await closeRound(server, 4)
    await closeRound(server, 5)
    const old = await get(server, '?since=0')
    expect(old.res.status).toBe(200)
    expect(old.res.headers.get('content-type')).toBe(MODEL_MEDIA_TYPE)
    expect(old.bytes).toEqual((await get(server)).bytes)
    expect((await get(server, '?since=1')).res.headers.get('content-type')).toBe(MODEL_PATCH_MEDIA_TYPE)
  })

  it('refuses a since that is not a version up to the current one: 400 bad_since', async () => {
    const server = await start(args('--init', '--catalogue', catalogueFile()))
    for (const since of ['abc', '-1', '1.5', '1e3', '', '0x1', '7', '99999999999999999999']) {
      const { res, bytes } = await get(server, `?since=${encodeURIComponent(since)}`)
      expect(res.status, since).toBe(400)
      const body = parseErrorBody(JSON.parse(new TextDecoder().decode(bytes)))
      expect(body.error.code).toBe('bad_since')
      expect(body.error.message).toMatch(/since must be a model version/)
    }
  })
})

function catalogueFile(): string {
  const path = inDir('catalogue.json')
  writeFileSync(path, JSON.stringify(catalogueOf(NUM_ITEMS)))
  return path
}
