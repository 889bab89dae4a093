import { beforeAll, expect, it } from 'vitest'
import { selectBackend } from './backend.ts'
import { DEFAULT_FEATURE_ROWS, featureRows } from './item-features.ts'
import type { LocalTrainingResult, RowLookup } from './local-training.ts'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { buildSequenceSamples } from './sequence.ts'
import { tf } from './test-backend-browser.ts'
import { BROWSER_BACKENDS, describeWithBackends } from './test-backends.ts'
import { trainSequence } from './train-sequence.ts'
import { initSharedWeights, initUserVector } from './weights.ts'

const NUM_ITEMS = 300
const DIM = 16
// Revisits on purpose: rows repeat as contexts, targets and negatives within one step.
const history: RowEvent[] = Array.from({ length: 40 }, (_, i) => ({
  type: i % 7 === 0 ? 'purchase' : i % 3 === 0 ? 'add_to_cart' : 'click',
  row: (i * 37) % 50,
}))

/** Categories and brands for the first 200 items; the last 100 have none. */
const itemFeatures = featureRows(
  Array.from({ length: NUM_ITEMS }, (_, i) =>
    i < 200 ? [`cat:c${i % 9}`, `brand:b${i % 13}`, 'tok:x'] : [],
  ),
  DEFAULT_FEATURE_ROWS,
)

/** The same training run from the same seed, on whichever backend is active (with item features: `features`). */
async function trainOnce(lookup?: RowLookup, features?: 'features'): Promise<LocalTrainingResult> {
  const rng = createRng(11)
  const weights = initSharedWeights(
    NUM_ITEMS,
    DIM,
    rng,
    features ? { numFeatures: DEFAULT_FEATURE_ROWS, itemFeatures } : {},
  )
  const samples = buildSequenceSamples(history, { numItems: NUM_ITEMS, negativesPerTarget: 4, rng })
  return trainSequence(tf, {
    weights,
    samples,
    epochs: 3,
    learningRate: 0.01,
    batchSize: 32,
    mu: 0.01,
    l2: 1e-4,
    privateVector: initUserVector(DIM, createRng(3)),
    rng,
    ...(lookup && { lookup }),
    ...(features && { itemFeatures }),
  })
}

function worstGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

let cpu: LocalTrainingResult
let cpuFeatures: LocalTrainingResult
beforeAll(async () => {
  expect(await selectBackend(tf, ['cpu'])).toBe('cpu')
  cpu = await trainOnce()
  expect(cpu.deltas[0]!.values.some((v) => Math.abs(v) > 1e-3)).toBe(true)
  cpuFeatures = await trainOnce(undefined, 'features')
  expect(cpuFeatures.deltas).toHaveLength(4)
  expect(cpuFeatures.deltas[2]!.values.some((v) => Math.abs(v) > 1e-3)).toBe(true)
})

function expectSameAsCpu(other: LocalTrainingResult, reference = cpu): void {
  expect(other.deltas.map((d) => d.name)).toEqual(reference.deltas.map((d) => d.name))
  other.deltas.forEach((delta, i) => {
    expect([...delta.rowIds]).toEqual([...reference.deltas[i]!.rowIds])
    expect(worstGap(delta.values, reference.deltas[i]!.values)).toBeLessThan(1e-4)
  })
  expect(worstGap(other.userVector, reference.userVector)).toBeLessThan(1e-4)
}

describeWithBackends('next-item training in a real browser', BROWSER_BACKENDS, (backend) => {
  it(`gives the CPU run's deltas and private vector (${backend === 'webgl' ? 'row table' : 'scatter'})`, async () => {
    expectSameAsCpu(await trainOnce())
  })

  it('gives the CPU run’s deltas with item features, feature tensors included', async () => {
    expectSameAsCpu(await trainOnce(undefined, 'features'), cpuFeatures)
  })

  if (backend === 'cpu')
    it('gives the same with the one-hot row lookup', async () => {
      expectSameAsCpu(await trainOnce('one-hot'))
    })
})
