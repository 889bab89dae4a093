// What a shopper's browser downloads, from the built @fedrec/browser (npm run build:packages) and a real
// aggregator's model at 1,000 / 10,000 / 50,000 items: raw bytes and gzipped (what a server or reverse
// proxy with gzip sends). Item ids as a shop might have them ("sku-000123"), the default dimension.
//
//   npx tsx scripts/packages/download-cost.ts
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createAggregator, createApp } from '../../apps/aggregator/src/index.ts'
import { root } from './published.ts'

const dist = join(root, 'packages/browser/dist')
const sizes = (bytes: Uint8Array): { raw: number; gzip: number } => ({
  raw: bytes.byteLength,
  gzip: gzipSync(bytes, { level: 6 }).byteLength,
})
const file = (name: string) => sizes(readFileSync(join(dist, name)))
const sum = (parts: { raw: number; gzip: number }[]) => ({
  raw: parts.reduce((n, p) => n + p.raw, 0),
  gzip: parts.reduce((n, p) => n + p.gzip, 0),
})
const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`

const files = readdirSync(dist)
const mainThread = sum(
  files.filter((f) => f.endsWith('.js') && f !== 'worker.js' && f !== 'index.js').map(file),
)
const rows: [string, { raw: number; gzip: number }][] = [
  ['main thread: element.js + its chunk', mainThread],
  ['worker.js (TensorFlow.js, minified)', file('worker.js')],
  ['tfjs-backend-wasm-simd.wasm (WASM backend only)', file('tfjs-backend-wasm-simd.wasm')],
]
for (const items of [1_000, 10_000, 50_000]) {
  const catalogue = Array.from({ length: items }, (_, i) => `sku-${String(i).padStart(6, '0')}`)
  const aggregator = await createAggregator({ store: ':memory:', catalogue, seed: 1, deadlineTimer: false })
  try {
    const app = createApp(aggregator, { corsOrigins: ['*'], maxBodyBytes: 8 << 20, operatorToken: 'x' })
    const res = await app.request('/v1/model')
    rows.push([
      `model, ${items.toLocaleString('en')} items (first visit)`,
      sizes(new Uint8Array(await res.arrayBuffer())),
    ])
  } finally {
    await aggregator.close()
  }
}
console.info(`${'what'.padEnd(48)} ${'raw'.padStart(10)} ${'gzip'.padStart(10)}`)
for (const [what, s] of rows)
  console.info(`${what.padEnd(48)} ${kB(s.raw).padStart(10)} ${kB(s.gzip).padStart(10)}`)
