import './register-backends.ts'
import { featureRows, hashFeature, itemFeatureStrings } from '@fedrec/core/client'
import { decodeUpdate, type RoundInfo } from '@fedrec/protocol'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { openFedrecDB } from './db.ts'
import { Engine } from './engine/index.ts'
import { createRecommender, type Recommender } from './recommender.ts'
import { ack, scriptedAggregator, seedCache } from './test-model.ts'

// Two shops share one model (real Chromium, IndexedDB, worker and training): shop a's ids are `a:…`, shop b's
// `b:…`, interleaved in the model, both described by the same category vocabulary. A shopper of shop a, whose
// device knows only a's own ids, trains and is served from a's items alone.

const DIM = 4
const F = 64
const SHARED = ['a:k1', 'b:k1', 'a:k2', 'b:g1', 'a:g1', 'b:k2', 'a:g2', 'b:g2', 'a:k3', 'b:k3']
const categoryOf = (id: string) => (id.split(':')[1]!.startsWith('k') ? 'kitchen' : 'garden')
const A_ROWS = SHARED.flatMap((id, row) => (id.startsWith('a:') ? [row] : []))
const A_IDS = SHARED.filter((id) => id.startsWith('a:')).map((id) => id.slice(2))

const info: RoundInfo = {
  round: 2,
  modelVersion: 2,
  numItems: SHARED.length,
  dim: DIM,
  config: {
    mu: 0,
    localEpochs: 2,
    learningRate: 0.05,
    negativesPerPositive: 4,
    batchSize: 8,
    maxSampleCount: 200,
    deadline: '2030-01-01T00:00:00.000Z',
    minClients: 1,
  },
}

async function seedShared(dbName: string): Promise<void> {
  await seedCache(dbName, {
    itemIds: SHARED,
    embedding: Float32Array.from({ length: SHARED.length * DIM }, (_, k) => Math.sin(k + 1) / 10),
    // Shop b's items are the most popular of the model: a view that leaked them would show them first.
    bias: Float32Array.from(SHARED, (id, row) => (id.startsWith('b:') ? 1 : row / 100)),
    version: 2,
    features: {
      embedding: Float32Array.from({ length: F * DIM }, (_, k) => Math.cos(k) / 10),
      bias: new Float32Array(F),
      itemFeatures: featureRows(
        SHARED.map((id) => itemFeatureStrings({ category: categoryOf(id) })),
        F,
      ),
    },
  })
}

const engines: Engine[] = []
const open: Recommender[] = []
afterEach(() => {
  for (const e of engines.splice(0)) e.dispose()
  for (const r of open.splice(0)) r.close()
})

describe('a shop in a model several shops share', () => {
  it('trains its own rows and the shared feature rows, drawing negatives from its own items only', async () => {
    const dbName = `s-${crypto.randomUUID()}`
    await seedShared(dbName)
    const db = await openFedrecDB(dbName)
    for (let pass = 0; pass < 3; pass++)
      for (const [i, itemId] of ['k1', 'k2', 'k3'].entries())
        await db.add('events', { type: 'click', itemId, ts: 1_000 + 10 * pass + i })
    db.close()

    const agg = scriptedAggregator(info, [() => ack(2, 2)])
    const engine = await Engine.create(
      tf,
      {
        endpoint: 'http://agg.test/',
        dbName,
        backends: ['cpu'],
        retry: { retries: 0, baseDelayMs: 1 },
        shop: 'a',
      },
      { fetch: agg.fetch },
    )
    engines.push(engine)
    expect(await engine.sync()).toMatchObject({ uploaded: true })
    const update = decodeUpdate(agg.bodies[0]!)
    const itemRows = (name: string) => [...(update.tensors.find((t) => t.name === name)?.rowIds ?? [])]
    // The clicked items and the negatives (a's garden items, the only other rows a has) are all a's rows.
    expect(itemRows('item_embedding').length).toBeGreaterThan(3)
    for (const row of [...itemRows('item_embedding'), ...itemRows('item_bias')]) expect(A_ROWS).toContain(row)
    expect(itemRows('item_embedding')).toEqual([...itemRows('item_embedding')].sort((x, y) => x - y))
    expect(itemRows('feature_embedding')).toContain(hashFeature('cat:kitchen', F))
  })

  it("recommends, suggests and reranks the shop's own items under its own ids, never another shop's", async () => {
    const dbName = `s-${crypto.randomUUID()}`
    await seedShared(dbName)
    const rec = await createRecommender({
      endpoint: 'http://127.0.0.1:9/',
      dbName,
      shop: 'a',
      retry: { retries: 0, baseDelayMs: 1 },
    })
    open.push(rec)
    // A new shopper: popular items, a's only although b's are the most popular of the model.
    const popular = await rec.suggest({ mode: 'popular', k: 10 })
    expect(popular.kind).toBe('popular')
    expect(popular.items.map((i) => i.itemId).sort()).toEqual([...A_IDS].sort())

    await rec.track({ type: 'click', itemId: 'k1' })
    await rec.track({ type: 'click', itemId: 'g1' })
    const recommended = await rec.recommend({ k: 10 })
    expect(recommended.map((r) => r.itemId).sort()).toEqual([...A_IDS].sort())
    const personal = await rec.suggest({ k: 10, leaveOut: 'seen' })
    expect(personal.kind).toBe('personal')
    expect(personal.items.map((i) => i.itemId).sort()).toEqual(['g2', 'k2', 'k3'])
    expect(personal.items.every((i) => i.because === null || A_IDS.includes(i.because.itemId))).toBe(true)
    const similar = await rec.suggest({ mode: 'similar', itemId: 'k1', k: 10 })
    expect(similar.kind).toBe('similar')
    expect(similar.items.map((i) => i.itemId).sort()).toEqual(['g1', 'g2', 'k2', 'k3'])

    // Another shop's ids, prefixed or not, are ids this shop's model does not know.
    const reranked = await rec.rerank(['k2', 'b:k1', 'g2'], { unknown: 'last' })
    expect(reranked.items.map((i) => i.itemId).slice(2)).toEqual(['b:k1'])
    expect(reranked.items.find((i) => i.itemId === 'b:k1')).toMatchObject({ reason: 'unknown' })
  })

  it('answers a shop the model has no items of with empty lists rather than an error', async () => {
    const dbName = `s-${crypto.randomUUID()}`
    await seedShared(dbName)
    const rec = await createRecommender({
      endpoint: 'http://127.0.0.1:9/',
      dbName,
      shop: 'c',
      retry: { retries: 0, baseDelayMs: 1 },
    })
    open.push(rec)
    await rec.track({ type: 'click', itemId: 'k1' })
    expect(await rec.recommend({ k: 5 })).toEqual([])
    expect(await rec.suggest({ k: 5 })).toMatchObject({ kind: 'none', items: [] })
    expect(await rec.suggest({ mode: 'similar', itemId: 'k1', k: 5 })).toMatchObject({ items: [] })
    expect((await rec.rerank(['k1', 'k2'])).items.map((i) => i.itemId)).toEqual(['k1', 'k2'])
  })

  it('refuses a bad shop name before starting anything', async () => {
    await expect(createRecommender({ endpoint: 'http://127.0.0.1:9/', shop: 'a:b' })).rejects.toMatchObject({
      code: 'bad_option',
    })
  })
})
