// Item features end to end over real HTTP, against a real aggregator process: a catalogue file with product
// features → the model served in format 2 with each item's feature rows → client updates touching feature
// rows → the next model's feature rows moved by FedAvg's weighted average, and a patch that carries them and
// a product added with its features. On SQLite (one process) and on PostgreSQL with two replicas, where the
// requests alternate between them and the closing replica rebuilds the feature rows' sum from the store.
import { writeFileSync } from 'node:fs'
import { featureRows, itemFeatureStrings } from '@fedrec/core/server'
import {
  applyModelPatch,
  decodeModel,
  decodeModelPatch,
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  MODEL_PATCH_MEDIA_TYPE,
  type ModelSnapshot,
  parseErrorBody,
  parseRoundInfo,
} from '@fedrec/protocol'
import { afterAll, describe, expect, it } from 'vitest'
import { startPostgres, type TestPostgres } from './store/postgres/test-postgres.ts'
import { getJson, postUpdate, type Running, start, stop, useScratchDir } from './test-process.ts'
import { startReplicas } from './test-replicas.ts'
import { makeUpdate } from './test-support.ts'

const inDir = useScratchDir('fedrec-features-http-')

const DIM = 4
const F = 64
const TOKEN = 'operator-secret-for-feature-tests'
const PRODUCTS = [
  { id: 'mug', category: 'Kitchen.Mugs', brand: 'Acme', price: 12, title: 'Stoneware mug' },
  { id: 'bowl', category: 'Kitchen.Bowls', brand: 'Acme', price: 25 },
  { id: 'poster', description: 'A poster without features' },
]

async function getModel(server: Running, query = ''): Promise<{ type: string | null; bytes: Uint8Array }> {
  const res = await fetch(`${server.url}/v1/model${query}`)
  expect(res.status).toBe(200)
  return { type: res.headers.get('content-type'), bytes: new Uint8Array(await res.arrayBuffer()) }
}

const tensor = (s: ModelSnapshot, name: string) => s.tensors.find((t) => t.name === name)!.values

/** What every aggregator of these tests runs with (but `--store`), the catalogue written to a file. */
function featureArgs(): string[] {
  const catalogue = inDir('catalogue.json')
  writeFileSync(catalogue, JSON.stringify(PRODUCTS))
  return [
    '--port',
    '0',
    '--catalogue',
    catalogue,
    '--dim',
    String(DIM),
    '--feature-rows',
    String(F),
    '--seed',
    '3',
    '--min-clients',
    '2',
    '--client-rate',
    '0',
    '--ip-rate',
    '0',
    '--operator-token',
    TOKEN,
  ]
}

/**
 * The round trip: catalogue and first update through `a`, the refused and second update through `b`, the
 * patch from `b` (`a` and `b` are one process on SQLite, two replicas on PostgreSQL).
 */
async function roundTrip(a: Running, b: Running): Promise<void> {
  // Version 0: each item's feature rows are those of core's itemFeatureStrings, hashed into F rows.
  const v0 = decodeModel((await getModel(a)).bytes)
  const expected = featureRows(
    [itemFeatureStrings(PRODUCTS[0]!), itemFeatureStrings(PRODUCTS[1]!), undefined],
    F,
  )
  expect(v0.itemIds).toEqual(['mug', 'bowl', 'poster'])
  expect(v0.itemFeatures?.numFeatures).toBe(F)
  expect(Array.from(v0.itemFeatures!.offsets)).toEqual(Array.from(expected.offsets))
  expect(Array.from(v0.itemFeatures!.rows)).toEqual(Array.from(expected.rows))
  expect(tensor(v0, FEATURE_EMBEDDING)).toHaveLength(F * DIM)

  // A product added with its features joins when the round closes.
  const added = await fetch(`${a.url}/v1/catalogue`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      itemIds: [
        { id: 'jug', category: 'Kitchen.Mugs', brand: 'Acme' },
        // The shop's whole catalogue again, the mug's price changed: it keeps its price band, and is named.
        { ...PRODUCTS[0], price: 120 },
        PRODUCTS[1],
      ],
    }),
  })
  expect(await added.json()).toEqual({
    added: 1,
    pending: 1,
    featuresIgnored: { count: 1, itemIds: ['mug'] },
  })

  // An update with a feature row outside the table is refused with a clear error, and not counted.
  const outside = makeUpdate({
    round: 0,
    modelVersion: 0,
    sampleCount: 1,
    dim: DIM,
    featureBias: [[F, [1]]],
  })
  const refused = await postUpdate(b.url, outside.bytes)
  expect(refused.status).toBe(400)
  const body = parseErrorBody(await refused.json())
  expect(body.error.code).toBe('bad_row_ids')
  expect(body.error.message).toContain(
    `feature_bias: row id ${F} is out of range (the model has ${F} feature rows)`,
  )

  // Two clients touch the 'cat:kitchen' row: n_k = 1 and 3.
  const row = featureRows([['cat:kitchen']], F).rows[0]!
  const first = makeUpdate({
    round: 0,
    modelVersion: 0,
    sampleCount: 1,
    dim: DIM,
    featureEmbedding: [[row, [1, 1, -1, 0]]],
    featureBias: [[row, [0.5]]],
  })
  const second = makeUpdate({
    round: 0,
    modelVersion: 0,
    sampleCount: 3,
    dim: DIM,
    featureEmbedding: [[row, [-1, 3, 1, 2]]],
    featureBias: [[row, [-0.5]]],
  })
  expect((await postUpdate(a.url, first.bytes)).status).toBe(200)
  expect((await postUpdate(b.url, second.bytes)).status).toBe(200)
  await expect.poll(async () => parseRoundInfo(await getJson(`${a.url}/v1/round`)).modelVersion).toBe(1)

  // FedAvg (η = 1): x += Σ n_k Δ_k / Σ n_k over the updates that touched the row.
  const v1Bytes = (await getModel(a)).bytes
  const v1 = decodeModel(v1Bytes)
  const mean = [(1 * 1 + 3 * -1) / 4, (1 * 1 + 3 * 3) / 4, (1 * -1 + 3 * 1) / 4, (1 * 0 + 3 * 2) / 4]
  for (let c = 0; c < DIM; c++) {
    expect(tensor(v1, FEATURE_EMBEDDING)[row * DIM + c]).toBeCloseTo(
      tensor(v0, FEATURE_EMBEDDING)[row * DIM + c]! + mean[c]!,
      5,
    )
  }
  expect(tensor(v1, FEATURE_BIAS)[row]).toBeCloseTo(tensor(v0, FEATURE_BIAS)[row]! + (0.5 - 1.5) / 4, 5)
  // Untouched feature rows stay bit for bit.
  const other = (row + 1) % F
  expect(tensor(v1, FEATURE_EMBEDDING)[other * DIM]).toBe(tensor(v0, FEATURE_EMBEDDING)[other * DIM])
  // The new product carries its features; its id row starts at 0.
  expect(v1.itemIds).toEqual(['mug', 'bowl', 'poster', 'jug'])
  const jug = itemFeatureStrings({ category: 'Kitchen.Mugs', brand: 'Acme' })
  const { offsets, rows } = v1.itemFeatures!
  expect(Array.from(rows.slice(offsets[3]!, offsets[4]!))).toEqual(Array.from(featureRows([jug], F).rows))

  // A patch from version 0 carries the changed feature row and the new product, and rebuilds v1 exactly.
  const patchRes = await getModel(b, '?since=0')
  expect(patchRes.type).toBe(MODEL_PATCH_MEDIA_TYPE)
  const patch = decodeModelPatch(patchRes.bytes)
  expect(Array.from(patch.features!.rowIds)).toEqual([row])
  const rebuilt = await applyModelPatch(v0, patch)
  expect(rebuilt.bytes).toEqual(v1Bytes)
}

let postgres: TestPostgres | undefined
afterAll(() => postgres?.stop(), 60_000)

describe('item features over HTTP', () => {
  it('serves a catalogue’s features, averages feature deltas by n_k, and patches them with a new product', async () => {
    const server = await start(['--store', inDir('s.sqlite'), '--init', ...featureArgs()])
    try {
      await roundTrip(server, server)
    } finally {
      await stop(server, 'SIGTERM')
    }
  })

  it('does the same on PostgreSQL with two replicas taking turns', async () => {
    postgres = await startPostgres()
    const [a, b] = await startReplicas(2, await postgres.schema(), featureArgs())
    try {
      await roundTrip(a!, b!)
      // Both replicas serve the one model.
      expect((await getModel(a!)).bytes).toEqual((await getModel(b!)).bytes)
    } finally {
      await Promise.all([stop(a!, 'SIGTERM'), stop(b!, 'SIGTERM')])
    }
  }, 180_000)
})
