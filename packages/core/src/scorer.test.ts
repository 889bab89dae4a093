import { expect, it } from 'vitest'
import { ModelError } from './errors.ts'
import { createScorer } from './scorer.ts'
import { useNodeBackend } from './test-backend-node.ts'
import { describeWithBackends, NODE_BACKENDS } from './test-backends.ts'
import type { SharedWeights } from './weights.ts'

const { tf } = await useNodeBackend()

/** Five items in 2-D; with u = (1, 0) the scores are e_i.x + b_i = 0.5, 3, -1, 2, 1.1. */
const weights: SharedWeights = {
  numItems: 5,
  dim: 2,
  itemEmbedding: Float32Array.of(0.5, 0, 2, 1, -1, 0, 2, 0.1, 1, 5),
  itemBias: Float32Array.of(0, 1, 0, 0, 0.1),
}
const u = Float32Array.of(1, 0)

describeWithBackends('createScorer', NODE_BACKENDS, () => {
  it('returns the top k best first with u·e + b scores', async () => {
    const scorer = createScorer(tf, weights)
    const top = await scorer.topK(u, 3)
    expect(top.map((s) => s.row)).toEqual([1, 3, 4])
    expect(top.map((s) => s.score)).toEqual([3, 2, expect.closeTo(1.1, 6)])
    expect(await scorer.topK(u, 0)).toEqual([])
    expect((await scorer.topK(u, 99)).map((s) => s.row)).toEqual([1, 3, 4, 0, 2])
    scorer.dispose()
  })

  it('skips excluded rows and still returns k when it can', async () => {
    const scorer = createScorer(tf, weights)
    expect((await scorer.topK(u, 2, new Set([1, 4]))).map((s) => s.row)).toEqual([3, 0])
    expect((await scorer.topK(u, 5, new Set([0, 1, 2]))).map((s) => s.row)).toEqual([3, 4])
    scorer.dispose()
  })

  it('finds cosine-similar rows, never the row itself', async () => {
    const scorer = createScorer(tf, weights)
    const similar = await scorer.similarRows(0, 2)
    // Row 0 points along +x: row 3 (2, 0.1) is nearly parallel, row 1 (2, 1) next; row 2 is opposite.
    expect(similar.map((s) => s.row)).toEqual([3, 1])
    expect(similar[0]!.score).toBeCloseTo(2 / Math.hypot(2, 0.1), 5)
    scorer.dispose()
  })

  it('refuses bad input and use after dispose', async () => {
    const scorer = createScorer(tf, weights)
    await expect(scorer.topK(new Float32Array(3), 1)).rejects.toThrow(ModelError)
    await expect(scorer.topK(u, -1)).rejects.toThrow(/k must be/)
    await expect(scorer.similarRows(5, 1)).rejects.toThrow(/outside 0..4/)
    scorer.dispose()
    scorer.dispose()
    await expect(scorer.topK(u, 1)).rejects.toThrow(/after dispose/)
  })
})
