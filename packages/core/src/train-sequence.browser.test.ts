import { beforeAll, expect, it } from 'vitest'
import { selectBackend } from './backend.ts'
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

/** The same training run from the same seed, on whichever backend is active. */
async function trainOnce(lookup?: RowLookup): Promise<LocalTrainingResult> {
  const rng = createRng(11)
  const weights = initSharedWeights(NUM_ITEMS, DIM, rng)
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
  })
}

function worstGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

let cpu: LocalTrainingResult
beforeAll(async () => {
  expect(await selectBackend(tf, ['cpu'])).toBe('cpu')
  cpu = await trainOnce()
  expect(cpu.deltas[0]!.values.some((v) => Math.abs(v) > 1e-3)).toBe(true)
})

function expectSameAsCpu(other: LocalTrainingResult): void {
  expect([...other.deltas[0]!.rowIds]).toEqual([...cpu.deltas[0]!.rowIds])
  expect(worstGap(other.deltas[0]!.values, cpu.deltas[0]!.values)).toBeLessThan(1e-4)
  expect(worstGap(other.deltas[1]!.values, cpu.deltas[1]!.values)).toBeLessThan(1e-4)
  expect(worstGap(other.userVector, cpu.userVector)).toBeLessThan(1e-4)
}

describeWithBackends('next-item training in a real browser', BROWSER_BACKENDS, (backend) => {
  it(`gives the CPU run's deltas and private vector (${backend === 'webgl' ? 'row table' : 'scatter'})`, async () => {
    expectSameAsCpu(await trainOnce())
  })

  if (backend === 'cpu')
    it('gives the same with the one-hot row lookup', async () => {
      expectSameAsCpu(await trainOnce('one-hot'))
    })
})
