/**
 * Prints the cold-start numbers of item features on the generated shop of `src/test-cold-start.ts`: HR@10 of
 * held-out cold items with features (several table sizes), id only, random and popularity, and the bytes of
 * one client's update with and without the feature tensors.
 *
 *   npx tsx packages/core/scripts/item-features-numbers.ts [rounds]
 */
import '@tensorflow/tfjs-backend-wasm'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../src/backend.ts'
import {
  coldHitRate,
  federatedColdStart,
  generateColdStartShop,
  popularityHitRate,
} from '../src/test-cold-start.ts'

const rounds = Number(process.argv[2] ?? 4)
await selectBackend(tf, ['wasm'])
const shop = generateColdStartShop(1)
const rows: [string, string, string][] = [
  ['random', (10 / shop.cold.length).toFixed(3), ''],
  ['popularity', popularityHitRate(shop).toFixed(3), ''],
]
for (const numFeatures of [undefined, 256, 4096, 16384]) {
  const hits: number[] = []
  let bytes = 0
  for (const seed of [2, 3, 4]) {
    const run = await federatedColdStart(tf, shop, { rounds, numFeatures, seed })
    hits.push(await coldHitRate(tf, shop, run))
    bytes += run.updateBytes / 3
  }
  const mean = hits.reduce((a, b) => a + b, 0) / hits.length
  const label = numFeatures === undefined ? 'id only' : `features, F = ${numFeatures}`
  rows.push([label, `${mean.toFixed(3)} (${hits.map((h) => h.toFixed(2)).join(', ')})`, bytes.toFixed(0)])
}
console.info(
  `HR@10 of a held-out cold item among ${shop.cold.length} cold items; ${rounds} FedAvg rounds of ${shop.train.length} shoppers; seeds 2, 3, 4; wasm`,
)
console.info('| model | HR@10 (per seed) | update bytes / client |')
console.info('|---|---|---|')
for (const r of rows) console.info(`| ${r.join(' | ')} |`)
