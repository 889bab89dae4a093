// One client's influence on the model (prints numbers, asserts nothing) for issue 15, item 7:
//
// The attack: a round of three — two honest shoppers who trained for real (core's trainClientRound on tfjs
// WASM, 10 purchases each on a 100-item catalogue, the default round settings: n_k = 10 × 4 = 40) and one
// attacker who wants item `TARGET` on top: its bias +1000. Real aggregator code in process (createAggregator
// on an in-memory store, submit, the round close on quorum); every setting gets a fresh aggregator and the
// same three updates. Printed per setting: the attacker's best update that is accepted, the target's bias
// change, its rank by bias (1 = shown first to every new shopper) and its rank in the honest shoppers' own
// scores. The accuracy cost of the bounds on MovieLens-100K is the simulator's (docs/aggregator.md).
//
//   npx tsx apps/aggregator/bench/influence.ts
import '@tensorflow/tfjs-backend-wasm'
import {
  createRng,
  initUserVector,
  type RowEvent,
  selectBackend,
  sharedWeightsFromSnapshot,
  trainClientRound,
} from '@fedrec/core/client'
import {
  decodeModel,
  decodeUpdate,
  encodeUpdate,
  ITEM_BIAS,
  type ModelUpdate,
  newRandomId,
} from '@fedrec/protocol'
import * as tf from '@tensorflow/tfjs-core'
import { type AggregatorOptions, createAggregator } from '../src/aggregator/index.ts'
import { catalogueOf } from '../src/test-support.ts'

const ITEMS = 100
const DIM = 32
const TARGET = 57
/** The aggregator's settings before issue 15: no norm bound, n_k capped at 100,000 only. */
const OLD_DEFAULTS: Partial<AggregatorOptions> = {
  maxUpdateNorm: Number.POSITIVE_INFINITY,
  // So large that the bound by rows never bites: the old code had none.
  negativesPerPositive: 1_000_000,
}

const base: AggregatorOptions = {
  store: ':memory:',
  catalogue: catalogueOf(ITEMS),
  dim: DIM,
  seed: 1,
  minClients: 3,
  deadlineTimer: false,
}

interface Attack {
  what: string
  update: () => ModelUpdate
}

const id = () => ({ clientId: newRandomId(), idempotencyKey: newRandomId() })
const attacks: Attack[] = [
  {
    what: 'one row, n_k 100,000 (the issue)',
    update: () => ({ ...head(100_000), tensors: [bias([TARGET], [1000])] }),
  },
  {
    what: 'one row, n_k 4 (what one row justifies)',
    update: () => ({ ...head(4), tensors: [bias([TARGET], [1000])] }),
  },
  {
    what: 'all 100 rows, n_k 400, others −1000',
    update: () => {
      const rows = Array.from({ length: ITEMS }, (_, r) => r)
      return {
        ...head(400),
        tensors: [
          bias(
            rows,
            rows.map((r) => (r === TARGET ? 1000 : -1000)),
          ),
        ],
      }
    },
  },
]

const settings: { name: string; options: Partial<AggregatorOptions> }[] = [
  { name: 'before (no norm bound, no bound by rows)', options: OLD_DEFAULTS },
  { name: 'before, --max-update-norm 1', options: { ...OLD_DEFAULTS, maxUpdateNorm: 1 } },
  { name: 'before, --max-sample-count 500', options: { ...OLD_DEFAULTS, maxSampleCount: 500 } },
  { name: 'new defaults (rows bound, norm 500)', options: {} },
  { name: 'new defaults + --max-row-norm 1', options: { maxRowNorm: 1 } },
  { name: 'new defaults + --max-row-norm 0.5', options: { maxRowNorm: 0.5 } },
]

function head(sampleCount: number) {
  return { round: 0, modelVersion: 0, sampleCount, ...id() }
}

function bias(rowIds: number[], values: number[]) {
  return { name: ITEM_BIAS, cols: 1, rowIds: Uint32Array.from(rowIds), values: Float32Array.from(values) }
}

const print = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

/** 1 = the largest of `values` (ties share the best rank). */
function rankOf(values: ArrayLike<number>, index: number): number {
  let rank = 1
  for (let i = 0; i < values.length; i++) if (values[i]! > values[index]!) rank++
  return rank
}

async function main(): Promise<void> {
  const backend = await selectBackend(tf, ['wasm', 'cpu'])
  const reference = await createAggregator({ ...base })
  const start = sharedWeightsFromSnapshot(decodeModel(reference.model().bytes))
  await reference.close()
  const config = { mu: 0, localEpochs: 5, learningRate: 0.1, negativesPerPositive: 4, batchSize: 256 }
  const honest: { bytes: Uint8Array; userVector: Float32Array }[] = []
  for (const shopper of [0, 1]) {
    const rng = createRng(100 + shopper)
    // Ten purchases among the first 40 items: the target (57) is not among them.
    const events: RowEvent[] = Array.from({ length: 10 }, (_, i) => ({
      type: 'purchase',
      row: shopper * 20 + i * 2,
    }))
    const { result, userVector } = await trainClientRound(tf, {
      weights: start,
      userVector: initUserVector(DIM, rng),
      events,
      config,
      rng,
    })
    const bytes = encodeUpdate({ ...head(result.sampleCount), tensors: result.deltas })
    honest.push({ bytes, userVector })
  }
  print(
    `backend ${backend}; ${ITEMS} items, d ${DIM}; honest n_k ${honest.map((h) => decodeUpdate(h.bytes).sampleCount).join(', ')}; target item ${TARGET}, bias before ${start.itemBias[TARGET]!.toFixed(4)} (rank ${rankOf(start.itemBias, TARGET)})`,
  )
  print('')
  print('| setting | attack | answer | target bias change | rank by bias | rank for honest shoppers |')
  print('| --- | --- | --- | ---: | ---: | ---: |')
  for (const setting of settings) {
    for (const attack of attacks) {
      const a = await createAggregator({ ...base, ...setting.options })
      for (const h of honest) await a.submit(h.bytes)
      let answer = 'accepted'
      try {
        await a.submit(encodeUpdate(attack.update()))
      } catch (err) {
        answer = `refused: ${(err as { code?: string }).code ?? String(err)}`
      }
      // A refused attacker leaves a round of two honest updates: lowering the quorum to 2 closes it now.
      if (a.roundInfo().round === 0) await a.updateSettings({ minClients: 2 })
      const after = sharedWeightsFromSnapshot(decodeModel(a.model().bytes))
      await a.close()
      const change = after.itemBias[TARGET]! - start.itemBias[TARGET]!
      const personal = honest.map((h) => {
        const scores = new Float32Array(ITEMS)
        for (let r = 0; r < ITEMS; r++) {
          let s = after.itemBias[r]!
          for (let c = 0; c < DIM; c++) s += after.itemEmbedding[r * DIM + c]! * h.userVector[c]!
          scores[r] = s
        }
        return rankOf(scores, TARGET)
      })
      print(
        `| ${setting.name} | ${attack.what} | ${answer} | ${change.toFixed(3)} | ${rankOf(after.itemBias, TARGET)} of ${ITEMS} | ${personal.join(', ')} |`,
      )
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
