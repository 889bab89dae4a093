// Secure-aggregation cost benchmark (prints numbers, asserts nothing): one cohort runs the real protocol in
// this process — core's client and server objects, WebCrypto — on random sparse updates of a real-sized
// model, with 10% of the cohort dropping out after sharing keys (so the server also rebuilds their keys).
// Baseline in the same run: the bytes of the same client's plain sparse FRUP upload.
//
//   npx tsx apps/simulator/src/secagg-bench.ts                         # 1,682 items × n 10/50/100; 50,000 × n 10
//   npx tsx apps/simulator/src/secagg-bench.ts --items 50000 --clients 20 --rows 100 --dim 32
//   npx tsx apps/simulator/src/secagg-bench.ts --feature-rows 4096  # a model with item features: each update
//                                                                  # also touches 3 feature rows per item row
import { parseArgs } from 'node:util'
import { createRng, encodeSecAggVector, secAggVectorLength } from '@fedrec/core/client'
import { runSecAggCohort } from '@fedrec/core/server'
import {
  encodeUpdate,
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type TensorDelta,
} from '@fedrec/protocol'

const { values: args } = parseArgs({
  options: {
    items: { type: 'string' },
    clients: { type: 'string' },
    rows: { type: 'string', default: '100' },
    dim: { type: 'string', default: '32' },
    'feature-rows': { type: 'string' },
  },
})
const dim = Number(args.dim)
const rows = Number(args.rows)
/** F of a model with item features; undefined: id-only vectors. */
const numFeatures = args['feature-rows'] === undefined ? undefined : Number(args['feature-rows'])
/** Feature rows an update touches per item row (a category path, a brand, a price band), at most F. */
const FEATURES_PER_ROW = 3
const cases: [number, number][] =
  args.items !== undefined
    ? [[Number(args.items), Number(args.clients ?? 10)]]
    : [
        [1682, 10],
        [1682, 50],
        [1682, 100],
        [50000, 10],
      ]

function sparseUpdate(numItems: number, seed: number): { sampleCount: number; deltas: TensorDelta[] } {
  const rng = createRng(seed)
  const table = (name: string, biasName: string, count: number, of: number): TensorDelta[] => {
    const chosen = new Set<number>()
    while (chosen.size < Math.min(count, of)) chosen.add(rng.int(of))
    const rowIds = Uint32Array.from([...chosen].sort((a, b) => a - b))
    return [
      { name: biasName, cols: 1, rowIds, values: Float32Array.from(rowIds, () => rng.normal() * 0.02) },
      {
        name,
        cols: dim,
        rowIds,
        values: Float32Array.from({ length: rowIds.length * dim }, () => rng.normal() * 0.02),
      },
    ]
  }
  const items = table(ITEM_EMBEDDING, ITEM_BIAS, rows, numItems)
  const features =
    numFeatures === undefined
      ? []
      : table(FEATURE_EMBEDDING, FEATURE_BIAS, FEATURES_PER_ROW * rows, numFeatures)
  return { sampleCount: 5 * items[0]!.rowIds.length, deltas: [...items, ...features] }
}

const print = (line: string) => process.stdout.write(`${line}\n`)
print(`feature rows: ${numFeatures ?? 'none (id-only)'}`)
print(
  'items  | clients | dropped | vector u32 | bytes up/client | plain FRUP bytes | ratio | encode ms | client ms (mean) | server ms',
)
for (const [numItems, n] of cases) {
  const inputs = new Map<number, Uint32Array>()
  let plainBytes = 0
  const encodeStart = performance.now()
  for (let id = 1; id <= n; id++) {
    const u = sparseUpdate(numItems, id)
    inputs.set(
      id,
      encodeSecAggVector({
        deltas: u.deltas,
        weight: u.sampleCount,
        numItems,
        dim,
        ...(numFeatures === undefined ? {} : { numFeatures }),
      }).vector,
    )
    plainBytes = encodeUpdate({
      round: 0,
      modelVersion: 0,
      clientId: '0'.repeat(32),
      idempotencyKey: '0'.repeat(32),
      sampleCount: u.sampleCount,
      tensors: u.deltas,
    }).byteLength
  }
  const encodeMs = (performance.now() - encodeStart) / n
  const dropped = new Set<number>()
  for (let id = 1; id <= Math.floor(n / 10); id++) dropped.add(id * 10)
  const report = await runSecAggCohort({
    sessionId: `bench-${numItems}-${n}`,
    inputs,
    dropBeforeUpload: dropped,
  })
  const ids = [...report.masked.keys()]
  const mean = (m: Map<number, number>) => ids.reduce((s, id) => s + m.get(id)!, 0) / ids.length
  const bytesUp = mean(report.bytesUp)
  print(
    [
      String(numItems).padEnd(6),
      String(n).padStart(7),
      String(dropped.size).padStart(7),
      String(secAggVectorLength(numItems, dim, numFeatures)).padStart(10),
      String(Math.round(bytesUp)).padStart(15),
      String(plainBytes).padStart(16),
      (bytesUp / plainBytes).toFixed(1).padStart(5),
      encodeMs.toFixed(1).padStart(9),
      mean(report.clientMs).toFixed(0).padStart(16),
      report.serverMs.toFixed(0).padStart(9),
    ].join(' | '),
  )
}
