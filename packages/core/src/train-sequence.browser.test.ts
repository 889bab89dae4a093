import { describe, expect, it } from 'vitest'
import { type BackendName, selectBackend } from './backend.ts'
import type { LocalTrainingResult, RowLookup } from './local-training.ts'
import { createRng } from './rng.ts'
import type { RowEvent } from './samples.ts'
import { buildSequenceSamples } from './sequence.ts'
import { tf } from './test-backend-browser.ts'
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

describe('next-item training in a real browser', () => {
  it('gives the same deltas and private vector on webgl (row table), wasm and cpu (scatter), and one-hot', async () => {
    const results = new Map<string, LocalTrainingResult>()
    for (const backend of ['webgl', 'wasm', 'cpu'] as const satisfies readonly BackendName[]) {
      expect(await selectBackend(tf, [backend])).toBe(backend)
      results.set(backend, await trainOnce())
    }
    results.set('one-hot on cpu', await trainOnce('one-hot'))
    const cpu = results.get('cpu')!
    expect(cpu.deltas[0]!.values.some((v) => Math.abs(v) > 1e-3)).toBe(true)
    for (const [name, other] of results) {
      if (name === 'cpu') continue
      expect([...other.deltas[0]!.rowIds]).toEqual([...cpu.deltas[0]!.rowIds])
      expect(worstGap(other.deltas[0]!.values, cpu.deltas[0]!.values), name).toBeLessThan(1e-4)
      expect(worstGap(other.deltas[1]!.values, cpu.deltas[1]!.values), name).toBeLessThan(1e-4)
      expect(worstGap(other.userVector, cpu.userVector), name).toBeLessThan(1e-4)
    }
  })
})
