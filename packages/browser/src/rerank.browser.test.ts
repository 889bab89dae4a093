import './register-backends.ts'
import type { Fetch } from '@fedrec/protocol'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { openFedrecDB } from './db.ts'
import { Engine } from './engine/index.ts'
import { createRecommender, type Recommender } from './recommender.ts'
import { seedCache } from './test-model.ts'

// Real Chromium, real IndexedDB, the real worker. A model is put in the local cache the way a sync leaves it:
// kitchen items point one way, garden items another, and the garden items are the more popular.

const KITCHEN = ['k1', 'k2', 'k3', 'k4']
const GARDEN = ['g1', 'g2', 'g3', 'g4']
const ITEMS = [...KITCHEN, ...GARDEN]
const kitchenRow = [1, 0, 0, 0]
const gardenRow = [0, 1, 0, 0]

async function seed(dbName: string, version = 2): Promise<void> {
  await seedCache(dbName, {
    itemIds: ITEMS,
    embedding: Float32Array.from(ITEMS.flatMap((id) => (id.startsWith('k') ? kitchenRow : gardenRow))),
    // k1 .1, k2 .2, k3 .3, k4 .4 — every garden item above them: g1 .5 … g4 .8.
    bias: Float32Array.from(ITEMS, (_, i) => (i + 1) / 10),
    version,
  })
}

const open: Recommender[] = []
const engines: Engine[] = []
async function make(dbName: string): Promise<Recommender> {
  const rec = await createRecommender({
    endpoint: 'http://127.0.0.1:9/',
    dbName,
    retry: { retries: 0, baseDelayMs: 1 },
  })
  open.push(rec)
  return rec
}

afterEach(() => {
  for (const rec of open.splice(0)) rec.close()
  for (const e of engines.splice(0)) e.dispose()
})

const MIXED = ['g1', 'k2', 'g3', 'k3', 'g2', 'k4']

describe('rerank in a real browser', () => {
  it('orders a new shopper’s list by popularity, then by their history once it leans to one category', async () => {
    const dbName = `r-${crypto.randomUUID()}`
    await seed(dbName)
    const rec = await make(dbName)

    const cold = await rec.rerank(MIXED, { context: 'search' })
    expect(cold.kind).toBe('popular')
    expect(cold.context).toBe('search')
    expect(cold.modelVersion).toBe(2)
    expect(cold.items.map((i) => i.itemId)).toEqual(['g3', 'g2', 'g1', 'k4', 'k3', 'k2'])
    expect(cold.items[0]).toEqual({ itemId: 'g3', score: expect.closeTo(0.7, 5), reason: 'popular' })

    await rec.track({ type: 'click', itemId: 'k1' })
    await rec.track({ type: 'click', itemId: 'k2' })
    const warm = await rec.rerank(MIXED, { context: 'search' })
    expect(warm.kind).toBe('personal')
    // The state is the kitchen direction (both clicks are kitchen): every kitchen item gains 1 over its bias.
    expect(warm.items.map((i) => i.itemId)).toEqual(['k4', 'k3', 'k2', 'g3', 'g2', 'g1'])
    expect(warm.items[0]).toEqual({ itemId: 'k4', score: expect.closeTo(1.4, 5), reason: 'personal' })
    expect(warm.leftOut).toEqual([])
  })

  it('keeps unknown ids in place or last, keeps the carted unless asked, and cuts to k', async () => {
    const dbName = `r-${crypto.randomUUID()}`
    await seed(dbName)
    const rec = await make(dbName)
    await rec.track({ type: 'add_to_cart', itemId: 'k3' })
    const list = ['new-1', 'g1', 'k3', 'k4', 'new-2']
    const order = async (options: Parameters<Recommender['rerank']>[1]) =>
      (await rec.rerank(list, options)).items.map((i) => i.itemId)
    expect(await order({})).toEqual(['new-1', 'k4', 'k3', 'g1', 'new-2'])
    expect(await order({ unknown: 'last' })).toEqual(['k4', 'k3', 'g1', 'new-1', 'new-2'])
    const promo = await rec.rerank(list, { context: 'promotions', leaveOut: 'carted', k: 2 })
    expect(promo.items.map((i) => i.itemId)).toEqual(['new-1', 'k4'])
    expect(promo.leftOut).toEqual(['k3'])
  })

  it('leaves the shop’s order alone for a model that was never trained (version 0)', async () => {
    const dbName = `r-${crypto.randomUUID()}`
    await seed(dbName, 0)
    const rec = await make(dbName)
    await rec.track({ type: 'click', itemId: 'k1' })
    const result = await rec.rerank(MIXED)
    expect(result.kind).toBe('none')
    expect(result.context).toBe('list')
    expect(result.items.map((i) => [i.itemId, i.reason])).toEqual(MIXED.map((id) => [id, 'unranked']))
  })

  it('keeps the shop’s order when the cached model is damaged, instead of failing the shop’s list', async () => {
    const dbName = `r-${crypto.randomUUID()}`
    const db = await openFedrecDB(dbName)
    await db.put('model', {
      key: 'current',
      modelVersion: 5,
      etag: '"v5"',
      bytes: Uint8Array.of(1, 2, 3).buffer,
    })
    db.close()
    const rec = await make(dbName)
    const result = await rec.rerank(MIXED, { context: 'category' })
    expect(result).toMatchObject({ kind: 'none', context: 'category', modelVersion: -1, leftOut: [] })
    expect(result.items.map((i) => i.itemId)).toEqual(MIXED)
  })

  it('rejects bad input with bad_option', async () => {
    const rec = await make(`r-${crypto.randomUUID()}`)
    await expect(rec.rerank('k1' as never)).rejects.toMatchObject({ name: 'FedrecError', code: 'bad_option' })
    await expect(rec.rerank(['k1', 'k1'])).rejects.toMatchObject({
      name: 'FedrecError',
      code: 'bad_option',
      message: 'rerank() needs each item id once; "k1" is at 0 and at 1',
    })
  })
})

describe('rerank sends nothing', () => {
  it('makes no request, with a model on the device or without one (where recommend would download)', async () => {
    const requests: string[] = []
    const counting: Fetch = (input, init) => {
      requests.push(String(input))
      return fetch(input, init)
    }
    const dbName = `r-${crypto.randomUUID()}`
    const options = {
      endpoint: 'http://127.0.0.1:9/',
      dbName,
      backends: ['cpu' as const],
      retry: { retries: 0, baseDelayMs: 1 },
    }
    const bare = await Engine.create(tf, options, { fetch: counting })
    engines.push(bare)
    const none = await bare.rerank(MIXED, {
      context: 'search',
      unknown: 'keep-place',
      leaveOut: 'none',
      k: undefined,
    })
    expect(none.kind).toBe('none')
    expect(none.modelVersion).toBe(-1)
    expect(none.items.map((i) => i.itemId)).toEqual(MIXED)
    expect(requests).toEqual([])
    // The counter does see the engine's traffic: recommend, with no model here, asks for one.
    await expect(bare.recommend(3)).rejects.toMatchObject({ name: 'FedrecError', code: 'network' })
    expect(requests.length).toBeGreaterThan(0)

    requests.length = 0
    const seeded = `r-${crypto.randomUUID()}`
    await seed(seeded)
    const engine = await Engine.create(tf, { ...options, dbName: seeded }, { fetch: counting })
    engines.push(engine)
    const ranked = await engine.rerank(MIXED, {
      context: 'search',
      unknown: 'keep-place',
      leaveOut: 'none',
      k: undefined,
    })
    expect(ranked.kind).toBe('popular')
    expect(requests).toEqual([])
  })
})
