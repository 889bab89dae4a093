// Bandwidth figures (prints numbers, asserts nothing) for issue 7:
//
// 1. Down-link: the model patch a shopper one version behind downloads (GET /v1/model?since=) against the
//    whole model, at 1k / 10k / 50k items, after one round in which S shoppers each touched R rows. Real
//    aggregator code in-process (createAggregator on an in-memory SQLite store, real submit and round close,
//    the real change log and patch builder); updates are random deltas on the touched rows, with the rows
//    drawn uniformly (the worst case for patches) or by a Zipf(1) popularity (what shops see). Also: two
//    rounds of FedAvgM and FedAdam, whose momentum keeps moving every row ever touched.
// 2. Up-link: the update of a 200-event shopper at 50,000 items — encodeUpdate of a real trainClientRound
//    result on tfjs WASM, with the default round settings (4 negatives per positive, 5 epochs) — against the
//    dense model (50,000 × 33 × 4 B), whose 1/50 is the target; as float32 (format version 1) and float16
//    (version 2, the aggregator's default --update-dtype), with the float16 rounding's largest relative error.
//
//   npx tsx apps/aggregator/bench/bandwidth.ts            # both
//   npx tsx apps/aggregator/bench/bandwidth.ts --down     # only the model patches
//   npx tsx apps/aggregator/bench/bandwidth.ts --up       # only the upload
import '@tensorflow/tfjs-backend-wasm'
import { parseArgs } from 'node:util'
import {
  createRng,
  initSharedWeights,
  initUserVector,
  type Rng,
  type RowEvent,
  selectBackend,
  trainClientRound,
} from '@fedrec/core/client'
import type { ServerOptimizerName } from '@fedrec/core/server'
import {
  decodeModelPatch,
  decodeUpdate,
  encodeUpdate,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  newRandomId,
  type TensorDelta,
} from '@fedrec/protocol'
import * as tf from '@tensorflow/tfjs-core'
import { createAggregator } from '../src/aggregator/index.ts'

const { values: args } = parseArgs({
  options: { down: { type: 'boolean', default: false }, up: { type: 'boolean', default: false } },
})
const all = !args.down && !args.up
const DIM = 32

/** Draws rows 0..n-1: uniformly, or with P(row k) ∝ 1/(k+1) (item popularity in a shop). */
function rowSampler(n: number, kind: 'uniform' | 'zipf', rng: Rng): () => number {
  if (kind === 'uniform') return () => Math.floor(rng.next() * n)
  const cdf = new Float64Array(n)
  let sum = 0
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1)
    cdf[k] = sum
  }
  return () => {
    const x = rng.next() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

function distinctRows(count: number, n: number, draw: () => number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i)
  const rows = new Set<number>()
  while (rows.size < count) rows.add(draw())
  return [...rows].sort((a, b) => a - b)
}

function randomDeltas(rows: number[], rng: Rng): TensorDelta[] {
  const rowIds = Uint32Array.from(rows)
  const noise = (length: number) => Float32Array.from({ length }, () => (rng.next() - 0.5) * 0.02)
  return [
    { name: ITEM_EMBEDDING, cols: DIM, rowIds, values: noise(rows.length * DIM) },
    { name: ITEM_BIAS, cols: 1, rowIds, values: noise(rows.length) },
  ]
}

interface DownRow {
  items: number
  shoppers: number
  rows: number
  drawn: string
  optimizer: string
  changed: number
  modelBytes: number
  patchBytes: number | null
}

/** Rounds of `shoppers` updates each; the patch from the version before the last to the last. */
async function measureDown(
  items: number,
  shoppers: number,
  rowsEach: number,
  drawn: 'uniform' | 'zipf',
  serverOptimizer: ServerOptimizerName = 'fedavg',
  rounds = 1,
): Promise<DownRow> {
  const a = await createAggregator({
    store: ':memory:',
    catalogue: Array.from({ length: items }, (_, i) => `sku-${i}`),
    dim: DIM,
    seed: 1,
    minClients: shoppers,
    serverOptimizer,
    deadlineTimer: false,
    maxUpdateNorm: Number.POSITIVE_INFINITY,
  })
  try {
    const rng = createRng(items + shoppers * 7 + rowsEach * 13)
    const draw = rowSampler(items, drawn, rng)
    for (let r = 0; r < rounds; r++) {
      const { round, modelVersion } = a.roundInfo()
      for (let s = 0; s < shoppers; s++) {
        await a.submit(
          encodeUpdate({
            round,
            modelVersion,
            clientId: newRandomId(),
            idempotencyKey: newRandomId(),
            sampleCount: 1 + (s % 50),
            tensors: randomDeltas(distinctRows(rowsEach, items, draw), rng),
          }),
        )
      }
      if (a.roundInfo().modelVersion !== modelVersion + 1) throw new Error('the round did not close')
    }
    const version = a.roundInfo().modelVersion
    const patch = await a.modelPatch(version - 1)
    return {
      items,
      shoppers,
      rows: rowsEach,
      drawn,
      optimizer: rounds > 1 ? `${serverOptimizer}, round ${rounds}` : serverOptimizer,
      changed: patch ? decodeModelPatch(patch.bytes).rowIds.length : items,
      modelBytes: a.model().bytes.byteLength,
      patchBytes: patch?.bytes.byteLength ?? null,
    }
  } finally {
    await a.close()
  }
}

/** One line to stdout: this is a report, not a log. */
const print = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`

async function down(): Promise<void> {
  print('Down-link: the patch from the previous version against the whole model (d = 32)')
  print(
    '| items | shoppers × rows | rows drawn | server optimizer | changed rows | whole model | patch | patch / model |',
  )
  print('| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |')
  const runs: Parameters<typeof measureDown>[] = []
  for (const items of [1_000, 10_000, 50_000])
    for (const [shoppers, rows] of [
      [10, 200],
      [10, 1_000],
      [100, 200],
      [100, 1_000],
    ] as const)
      for (const drawn of ['uniform', 'zipf'] as const) runs.push([items, shoppers, rows, drawn])
  runs.push([10_000, 10, 200, 'zipf', 'fedavgm', 2], [10_000, 10, 200, 'zipf', 'fedadam', 2])
  for (const run of runs) {
    const r = await measureDown(...run)
    const patch = r.patchBytes === null ? 'whole model' : kb(r.patchBytes)
    const ratio =
      r.patchBytes === null ? '1 (whole)' : `${((100 * r.patchBytes) / r.modelBytes).toFixed(1)} %`
    print(
      `| ${r.items.toLocaleString('en')} | ${r.shoppers} × ${r.rows} | ${r.drawn} | ${r.optimizer} | ${r.changed.toLocaleString('en')} | ${kb(r.modelBytes)} | ${patch} | ${ratio} |`,
    )
  }
  print('')
}

async function up(): Promise<void> {
  const items = 50_000
  const backend = await selectBackend(tf, ['wasm', 'cpu'])
  const rng = createRng(42)
  const weights = initSharedWeights(items, DIM, rng)
  const dense = items * (DIM + 1) * 4
  const config = { mu: 0, localEpochs: 5, learningRate: 0.1, negativesPerPositive: 4, batchSize: 256 }
  print(
    `Up-link: one 200-event shopper at ${items.toLocaleString('en')} items on tfjs ${backend}, default round settings; dense model ${kb(dense)}, target ≤ 1/50 = ${kb(dense / 50)}`,
  )
  print(
    '| history | distinct items | touched rows | dtype | update | update / dense | × the 1/50 target | f16 / f32 | largest relative rounding |',
  )
  print('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |')
  const draw = rowSampler(items, 'zipf', rng)
  const types = [
    'click',
    'click',
    'click',
    'click',
    'click',
    'click',
    'add_to_cart',
    'add_to_cart',
    'purchase',
  ]
  for (const distinct of [200, 100, 50]) {
    const pool = distinctRows(distinct, items, draw)
    const events: RowEvent[] = Array.from({ length: 200 }, (_, i) => ({
      type: types[i % types.length] as RowEvent['type'],
      // Every distinct item at least once, the rest repeats.
      row: pool[i < distinct ? i : Math.floor(rng.next() * distinct)]!,
    }))
    const { result } = await trainClientRound(tf, {
      weights,
      userVector: initUserVector(DIM, rng),
      events,
      config,
      rng,
    })
    const update = {
      round: 0,
      modelVersion: 0,
      clientId: newRandomId(),
      idempotencyKey: newRandomId(),
      sampleCount: result.sampleCount,
      tensors: result.deltas,
    }
    const touched = result.deltas[0]!.rowIds.length
    const f32 = encodeUpdate(update, { dtype: 'f32' })
    const f16 = encodeUpdate(update, { dtype: 'f16' })
    // What the aggregator reads back from the float16 upload, against what the client trained.
    let worst = 0
    for (const [i, t] of decodeUpdate(f16).tensors.entries()) {
      const sent = result.deltas[i]!.values
      for (let j = 0; j < sent.length; j++)
        if (sent[j] !== 0) worst = Math.max(worst, Math.abs((t.values[j]! - sent[j]!) / sent[j]!))
    }
    for (const [dtype, bytes] of [
      ['f32', f32.byteLength],
      ['f16', f16.byteLength],
    ] as const) {
      const versus = dtype === 'f16' ? (f16.byteLength / f32.byteLength).toFixed(3) : '1'
      const rounding = dtype === 'f16' ? worst.toExponential(2) : '0'
      print(
        `| 200 events on ${distinct} items | ${distinct} | ${touched.toLocaleString('en')} | ${dtype} | ${kb(bytes)} | 1/${(dense / bytes).toFixed(1)} | ${((bytes * 50) / dense).toFixed(2)} | ${versus} | ${rounding} |`,
      )
    }
  }
  print('')
}

if (all || args.down) await down()
if (all || args.up) await up()
