/**
 * What item features cost on the wire: the model download (and gzipped), a model patch from the previous
 * version, and one shopper's update, with and without a feature table, for a shop of a realistic size.
 *
 *   npx tsx scripts/feature-wire-cost.ts [items=5000] [dim=32] [featureRows=4096] [featuresPerItem=7]
 *
 * Values are random (gzip finds little to squeeze in trained floats either); the patch changes 300 item rows
 * and the feature rows those items use; the update touches 20 items (float16 deltas, the default).
 */
import { gzipSync } from 'node:zlib'
import { featureRows } from '../packages/core/src/item-features.ts'
import {
  changedRows,
  createModelPatch,
  encodeModel,
  encodeModelPatch,
  encodeUpdate,
  type ItemFeatures,
  type ModelSnapshot,
  modelDigest,
  newRandomId,
  type TensorDelta,
} from '../packages/protocol/src/index.ts'

const [items = 5000, dim = 32, numFeatures = 4096, perItem = 7] = process.argv.slice(2).map(Number)
let seed = 1
const random = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
  return seed / 2 ** 32
}
const floats = (n: number) => Float32Array.from({ length: n }, () => random() - 0.5)
const ids = Array.from({ length: items }, (_, i) => `sku-${String(i).padStart(6, '0')}`)
// 40 categories, 200 brands, 10 price bands, a 3,000-word title vocabulary: perItem features in all.
const strings = ids.map((_, i) => [
  `cat:c${i % 40}`,
  `brand:b${i % 200}`,
  `price:${i % 10}`,
  ...Array.from({ length: perItem - 3 }, () => `tok:w${Math.floor(random() * 3000)}`),
])
const itemFeatures = featureRows(strings, numFeatures)

function model(
  version: number,
  withFeatures: boolean,
  base?: ModelSnapshot,
  changed?: number[],
): ModelSnapshot {
  const tensors = base
    ? base.tensors.map((t) => ({ ...t, values: t.values.slice() }))
    : [
        { name: 'item_embedding', rows: items, cols: dim, values: floats(items * dim) },
        { name: 'item_bias', rows: items, cols: 1, values: floats(items) },
        ...(withFeatures
          ? [
              { name: 'feature_embedding', rows: numFeatures, cols: dim, values: floats(numFeatures * dim) },
              { name: 'feature_bias', rows: numFeatures, cols: 1, values: floats(numFeatures) },
            ]
          : []),
      ]
  for (const item of changed ?? []) {
    const bump = (values: Float32Array, at: number) => {
      values[at] = values[at]! + 0.01
    }
    bump(tensors[0]!.values, item * dim)
    if (withFeatures) for (const row of rowsOf(itemFeatures, item)) bump(tensors[2]!.values, row * dim)
  }
  return {
    modelVersion: version,
    round: version,
    itemIds: ids,
    tensors,
    ...(withFeatures ? { itemFeatures } : {}),
  }
}

const rowsOf = (f: ItemFeatures, item: number) => f.rows.subarray(f.offsets[item]!, f.offsets[item + 1]!)
const sample = (n: number) => [...new Set(Array.from({ length: n }, () => Math.floor(random() * items)))]
const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`

async function measure(withFeatures: boolean) {
  const before = model(1, withFeatures)
  const after = model(2, withFeatures, before, sample(300))
  const bytes = encodeModel(after)
  const tables = (s: ModelSnapshot, from: number, to: number) => ({
    numItems: from === 0 ? items : numFeatures,
    tensors: s.tensors.slice(from, to),
  })
  const patch = encodeModelPatch(
    createModelPatch(after, {
      fromVersion: 1,
      baseItemCount: items,
      rowIds: changedRows(tables(before, 0, 2), tables(after, 0, 2)),
      ...(withFeatures ? { featureRowIds: changedRows(tables(before, 2, 4), tables(after, 2, 4)) } : {}),
      digest: await modelDigest(bytes),
    }),
  )
  const touched = Uint32Array.from(sample(20).sort((a, b) => a - b))
  const delta = (name: string, rowIds: Uint32Array, cols: number): TensorDelta => ({
    name,
    cols,
    rowIds,
    values: Float32Array.from({ length: rowIds.length * cols }, () => (random() - 0.5) / 100),
  })
  const tensors = [delta('item_embedding', touched, dim), delta('item_bias', touched, 1)]
  if (withFeatures) {
    const rows = Uint32Array.from(new Set([...touched].flatMap((i) => [...rowsOf(itemFeatures, i)]))).sort()
    tensors.push(delta('feature_embedding', rows, dim), delta('feature_bias', rows, 1))
  }
  const update = encodeUpdate(
    {
      round: 2,
      modelVersion: 2,
      clientId: newRandomId(),
      idempotencyKey: newRandomId(),
      sampleCount: 40,
      tensors,
    },
    { dtype: 'f16' },
  )
  return { model: bytes.length, gzip: gzipSync(bytes).length, patch: patch.length, update: update.length }
}

const plain = await measure(false)
const featured = await measure(true)
console.info(`items ${items}, d ${dim}, F ${numFeatures}, ${perItem} features/item`)
console.info('|                        | id only  | with features |')
console.info('| ---------------------- | -------- | ------------- |')
for (const key of ['model', 'gzip', 'patch', 'update'] as const) {
  const label = {
    model: 'model',
    gzip: 'model (gzip)',
    patch: 'patch (300 items)',
    update: 'update (20 items, f16)',
  }[key]
  console.info(`| ${label.padEnd(22)} | ${kB(plain[key]).padStart(8)} | ${kB(featured[key]).padStart(13)} |`)
}
