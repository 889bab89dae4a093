// An aggregator whose model has item features: created with them, growing them, averaging feature deltas,
// refusing updates that do not fit its feature table.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { featureRows } from '@fedrec/core/server'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type StoredModel } from '../store/index.ts'
import { makeUpdate } from '../test-support.ts'
import { type Aggregator, type AggregatorOptions, createAggregator } from './index.ts'

let dir: string
let open: Aggregator[] = []
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedrec-features-'))
})
afterEach(async () => {
  await Promise.all(open.map((a) => a.close()))
  open = []
  rmSync(dir, { recursive: true, force: true })
})

const DIM = 2
const F = 16
const CATALOGUE = [
  { id: 'mug', features: ['cat:kitchen', 'brand:acme'] },
  'plain',
  { id: 'bowl', features: ['cat:kitchen'] },
]
const path = () => join(dir, 's.sqlite')

async function start(options: Partial<AggregatorOptions> = {}): Promise<Aggregator> {
  const aggregator = await createAggregator({
    store: path(),
    catalogue: CATALOGUE,
    dim: DIM,
    featureRows: F,
    seed: 5,
    minClients: 2,
    deadlineTimer: false,
    negativesPerPositive: 1000,
    ...options,
  })
  open.push(aggregator)
  return aggregator
}

async function stop(aggregator: Aggregator): Promise<void> {
  await aggregator.close()
  open = open.filter((a) => a !== aggregator)
}

/** The stored model, read from the store file once the aggregator has let go of it. */
async function stored(): Promise<StoredModel> {
  const store = openStore(path(), { create: false })
  try {
    return await store.loadModel()
  } finally {
    await store.close()
  }
}

const kitchen = featureRows([['cat:kitchen']], F).rows[0]!

describe('an aggregator with item features', () => {
  it('creates a model with an F-row feature table, each item’s hashed rows, and zero id rows for items with features', async () => {
    const a = await start()
    // Operators and clients read F from the status, with and without the token.
    expect((await a.status()).featureRows).toBe(F)
    expect((await a.publicStatus()).featureRows).toBe(F)
    await stop(a)
    const model = await stored()
    const expected = featureRows([['cat:kitchen', 'brand:acme'], undefined, ['cat:kitchen']], F)
    expect(model.features?.table.rows).toBe(F)
    expect(model.features?.table.embedding.some((v) => v !== 0)).toBe(true)
    expect(Array.from(model.features!.items.offsets)).toEqual(Array.from(expected.offsets))
    expect(Array.from(model.features!.items.rows)).toEqual(Array.from(expected.rows))
    expect(Array.from(model.itemEmbedding.slice(0, 2))).toEqual([0, 0])
    expect(model.itemEmbedding.slice(2, 4).some((v) => v !== 0)).toBe(true)
    expect(Array.from(model.itemEmbedding.slice(4, 6))).toEqual([0, 0])
  })

  it('averages feature deltas weighted by n_k (FedAvg) and grows the feature rows with the catalogue', async () => {
    await stop(await start())
    const before = await stored()
    const b = await start()
    await b.queueCatalogue([{ id: 'jug', features: ['cat:kitchen'] }, 'lamp'])
    await b.submit(
      makeUpdate({
        round: 0,
        modelVersion: 0,
        sampleCount: 1,
        dim: DIM,
        featureEmbedding: [[kitchen, [1, -1]]],
        featureBias: [[kitchen, [2]]],
      }).bytes,
    )
    await b.submit(
      makeUpdate({
        round: 0,
        modelVersion: 0,
        sampleCount: 3,
        dim: DIM,
        featureEmbedding: [[kitchen, [-1, 3]]],
      }).bytes,
    )
    expect(b.roundInfo()).toMatchObject({ round: 1, modelVersion: 1, numItems: 5 })
    await stop(b)
    const after = await stored()
    const old = before.features!.table
    const now = after.features!.table
    // Row-wise weighted mean over the updates that touched the row: (1·[1, −1] + 3·[−1, 3]) / 4 = [−0.5, 2];
    // the bias only by the first update: 1·2 / 1 = 2.
    expect(now.embedding[kitchen * DIM]).toBeCloseTo(old.embedding[kitchen * DIM]! - 0.5, 6)
    expect(now.embedding[kitchen * DIM + 1]).toBeCloseTo(old.embedding[kitchen * DIM + 1]! + 2, 6)
    expect(now.bias[kitchen]).toBeCloseTo(old.bias[kitchen]! + 2, 6)
    // Untouched feature rows stay.
    const other = (kitchen + 1) % F
    expect(now.embedding[other * DIM]).toBe(old.embedding[other * DIM])
    // The new items: 'jug' hashed to the kitchen row with a zero id row, 'lamp' without features.
    expect(after.itemIds).toEqual(['mug', 'plain', 'bowl', 'jug', 'lamp'])
    const offsets = Array.from(after.features!.items.offsets)
    expect(offsets.slice(3)).toEqual([offsets[3]!, offsets[3]! + 1, offsets[3]! + 1])
    expect(after.features!.items.rows[offsets[3]!]).toBe(kitchen)
    expect(Array.from(after.itemEmbedding.slice(3 * DIM, 4 * DIM))).toEqual([0, 0])
    expect(after.itemEmbedding.slice(4 * DIM, 5 * DIM).some((v) => v !== 0)).toBe(true)
  })

  it('keeps the features an item joined with, and names the items whose new features it ignored', async () => {
    const a = await start()
    // Model items: 'mug' offered with the features it has (in another order), 'bowl' with new ones, 'plain'
    // with its first ones, 'mug' again as a plain id; 'jug' is new.
    const answer = await a.queueCatalogue([
      { id: 'mug', features: ['brand:acme', 'cat:kitchen'] },
      { id: 'bowl', features: ['cat:garden'] },
      { id: 'plain', features: ['cat:toys'] },
      { id: 'jug', features: ['cat:kitchen'] },
    ])
    expect(answer).toEqual({
      added: 1,
      pending: 1,
      featuresIgnored: { count: 2, itemIds: ['bowl', 'plain'] },
    })
    // Queued items alike: 'jug' again with its features, then with others.
    expect(await a.queueCatalogue([{ id: 'jug', features: ['cat:kitchen'] }, 'mug'])).toEqual({
      added: 0,
      pending: 1,
    })
    expect(await a.queueCatalogue([{ id: 'jug', features: ['cat:lamps'] }])).toEqual({
      added: 0,
      pending: 1,
      featuresIgnored: { count: 1, itemIds: ['jug'] },
    })
    await stop(a)
    const model = await stored()
    const rowsOf = (item: number) =>
      Array.from(
        model.features!.items.rows.subarray(
          model.features!.items.offsets[item]!,
          model.features!.items.offsets[item + 1]!,
        ),
      )
    expect(rowsOf(2)).toEqual([kitchen])
    expect(rowsOf(1)).toEqual([])
  })

  it('counts an acknowledged feature update once across a restart (replayed into the feature sums)', async () => {
    await stop(await start())
    const before = await stored()
    const first = makeUpdate({
      round: 0,
      modelVersion: 0,
      sampleCount: 1,
      dim: DIM,
      featureBias: [[kitchen, [4]]],
    })
    let a = await start()
    await a.submit(first.bytes)
    await stop(a)
    a = await start()
    expect(await a.submit(first.bytes)).toMatchObject({ duplicate: true, participants: 1 })
    await a.submit(
      makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, featureBias: [[kitchen, [2]]] })
        .bytes,
    )
    await stop(a)
    // (4 + 2) / 2 = 3: the replayed update counted once.
    expect((await stored()).features!.table.bias[kitchen]).toBeCloseTo(
      before.features!.table.bias[kitchen]! + 3,
      6,
    )
  })

  it('refuses an update whose feature rows are out of the table or of the wrong width, counting nothing', async () => {
    const a = await start()
    const outside = makeUpdate({
      round: 0,
      modelVersion: 0,
      sampleCount: 1,
      dim: DIM,
      featureBias: [[F, [1]]],
    })
    await expect(a.submit(outside.bytes)).rejects.toThrow(
      `feature_bias: row id ${F} is out of range (the model has ${F} feature rows)`,
    )
    const wide = makeUpdate({
      round: 0,
      modelVersion: 0,
      sampleCount: 1,
      dim: DIM + 1,
      featureEmbedding: [[0, [1, 2, 3]]],
    })
    await expect(a.submit(wide.bytes)).rejects.toThrow('feature_embedding: 3 columns, the model has 2')
    expect(await a.status()).toMatchObject({ participants: 0 })
  })

  it('hands clients negativesOnFeatures with --negative-id-rows off, and refuses it for an id-only model', async () => {
    const a = await start({ negativeIdRows: false })
    expect(a.roundInfo().config.negativesOnFeatures).toBe(true)
    await stop(a)
    const b = await start()
    expect(b.roundInfo().config).not.toHaveProperty('negativesOnFeatures')
    await expect(
      start({ featureRows: undefined, negativeIdRows: false, store: join(dir, 'id-only.sqlite') }),
    ).rejects.toThrow('holds an id-only model: --negative-id-rows off needs item features')
  })

  it('refuses feature deltas sent to an id-only model', async () => {
    const a = await start({ featureRows: undefined, store: join(dir, 'id-only.sqlite') })
    const update = makeUpdate({
      round: 0,
      modelVersion: 0,
      sampleCount: 1,
      dim: DIM,
      featureBias: [[0, [1]]],
    })
    await expect(a.submit(update.bytes)).rejects.toThrow(
      'unknown tensor "feature_bias"; the model has item_embedding, item_bias',
    )
    expect(await a.status()).not.toHaveProperty('featureRows')
  })

  it('refuses a --feature-rows that contradicts the store; secure aggregation of a model with features starts', async () => {
    await stop(await start())
    await expect(start({ featureRows: F * 2 })).rejects.toThrow(
      `a model with ${F} feature rows; --feature-rows ${F * 2} was given`,
    )
    // Its vectors carry the feature table (secagg/index.test.ts aggregates a round of them).
    const secure = await start({
      secureAggregation: { minCohort: 3, maxCohort: 10, threshold: 2, phaseTimeoutSeconds: 30 },
    })
    expect(secure.roundInfo().config.secureAggregation).toMatchObject({ minCohort: 3 })
    await stop(secure)
    await expect(
      start({ featureRows: 8, store: join(dir, 'plain.sqlite'), catalogue: ['x'] }).then(async (a) => {
        await stop(a)
        return start({ featureRows: 4, store: join(dir, 'plain.sqlite'), catalogue: ['x'] })
      }),
    ).rejects.toThrow('a model with 8 feature rows; --feature-rows 4 was given')
  })
})
