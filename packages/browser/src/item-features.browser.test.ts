import './register-backends.ts'
import { featureRows, hashFeature, itemFeatureStrings } from '@fedrec/core/client'
import { decodeUpdate, type RoundInfo } from '@fedrec/protocol'
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { openFedrecDB } from './db.ts'
import { Engine } from './engine/index.ts'
import { createRecommender, type Recommender } from './recommender.ts'
import { ack, scriptedAggregator, seedCache } from './test-model.ts'

// Real Chromium, real IndexedDB, the real worker and real training on the CPU backend. A shop of kitchen and
// garden products whose model has a feature table that has learned nothing yet (all zero); a shopper who only
// clicks kitchen products trains one round in the engine against a scripted aggregator; the next model is
// that update applied (one client's FedAvg) plus two products added to the catalogue since, each with only a
// category and an untrained id row. Only the category's feature row can tell them apart.

const DIM = 4
const F = 64
const KITCHEN = ['k1', 'k2', 'k3', 'k4']
const GARDEN = ['g1', 'g2', 'g3', 'g4']
const ITEMS = [...KITCHEN, ...GARDEN]
const categoryOf = (id: string) => (id.startsWith('k') ? 'kitchen' : 'garden')
const featuresOf = (ids: readonly string[]) =>
  featureRows(
    ids.map((id) => itemFeatureStrings({ category: categoryOf(id) })),
    F,
  )

const info: RoundInfo = {
  round: 3,
  modelVersion: 3,
  numItems: ITEMS.length,
  dim: DIM,
  config: {
    mu: 0,
    localEpochs: 5,
    learningRate: 0.05,
    negativesPerPositive: 2,
    batchSize: 8,
    maxSampleCount: 200,
    deadline: '2030-01-01T00:00:00.000Z',
    minClients: 1,
  },
}

const engines: Engine[] = []
const open: Recommender[] = []
afterEach(() => {
  for (const e of engines.splice(0)) e.dispose()
  for (const r of open.splice(0)) r.close()
})

describe('item features in a real browser', () => {
  it('trains the feature table on the device, and ranks a product added later by its category', async () => {
    const dbName = `f-${crypto.randomUUID()}`
    const embedding = Float32Array.from({ length: ITEMS.length * DIM }, (_, k) => Math.sin(k + 1) / 10)
    const bias = new Float32Array(ITEMS.length)
    const table = {
      embedding: new Float32Array(F * DIM),
      bias: new Float32Array(F),
      itemFeatures: featuresOf(ITEMS),
    }
    await seedCache(dbName, { itemIds: ITEMS, embedding, bias, version: 3, features: table })
    const db = await openFedrecDB(dbName)
    for (let pass = 0; pass < 3; pass++) {
      for (const [i, itemId] of KITCHEN.entries())
        await db.add('events', { type: 'click', itemId, ts: 1_000 + 10 * pass + i })
    }
    db.close()

    const agg = scriptedAggregator(info, [() => ack(3, 3)])
    const engine = await Engine.create(
      tf,
      { endpoint: 'http://agg.test/', dbName, backends: ['cpu'], retry: { retries: 0, baseDelayMs: 1 } },
      { fetch: agg.fetch },
    )
    engines.push(engine)
    expect(await engine.sync()).toMatchObject({ uploaded: true })
    const update = decodeUpdate(agg.bodies[0]!)
    const kitchenRow = hashFeature('cat:kitchen', F)
    const featureDelta = update.tensors.find((t) => t.name === 'feature_embedding')
    // The kitchen feature row trained on the device and travels in the update.
    expect(Array.from(featureDelta?.rowIds ?? [])).toContain(kitchenRow)

    // The next model: the update applied, then 'g-new' and 'k-new' added with zero id rows.
    const itemEmbedding = embedding.slice()
    const itemBias = bias.slice()
    const featureEmbedding = table.embedding.slice()
    const featureBias = table.bias.slice()
    const targets: Record<string, Float32Array> = {
      item_embedding: itemEmbedding,
      item_bias: itemBias,
      feature_embedding: featureEmbedding,
      feature_bias: featureBias,
    }
    for (const t of update.tensors) {
      t.rowIds.forEach((row, i) => {
        for (let c = 0; c < t.cols; c++) targets[t.name]![row * t.cols + c]! += t.values[i * t.cols + c]!
      })
    }
    const grown = [...ITEMS, 'g-new', 'k-new']
    await seedCache(dbName, {
      itemIds: grown,
      embedding: Float32Array.from({ length: grown.length * DIM }, (_, k) => itemEmbedding[k] ?? 0),
      bias: Float32Array.from(grown, (_, i) => itemBias[i] ?? 0),
      version: 4,
      features: { embedding: featureEmbedding, bias: featureBias, itemFeatures: featuresOf(grown) },
    })

    const rec = await createRecommender({
      endpoint: 'http://127.0.0.1:9/',
      dbName,
      retry: { retries: 0, baseDelayMs: 1 },
    })
    open.push(rec)
    // The new products first in the shop's list, the garden one ahead: without their features they score alike.
    const result = await rec.rerank(['g-new', 'k-new', ...GARDEN], { context: 'search', leaveOut: 'none' })
    expect(result.kind).toBe('personal')
    expect(result.modelVersion).toBe(4)
    expect(result.items[0]).toMatchObject({ itemId: 'k-new', reason: 'personal' })
    const score = (id: string) => result.items.find((i) => i.itemId === id)?.score ?? Number.NaN
    expect(score('k-new')).toBeGreaterThan(score('g-new'))
  })
})
