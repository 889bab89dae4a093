import { describe, expect, it } from 'vitest'
import { makeUpdate } from '../test-support.ts'
import { applyNormBound, updateNorm } from './norm-bound.ts'

const update = () =>
  makeUpdate({
    round: 0,
    modelVersion: 0,
    sampleCount: 1,
    dim: 2,
    embedding: [[0, [3, 0]]],
    bias: [[1, [4]]],
  }).update

describe('applyNormBound', () => {
  it('measures the norm over every tensor as one vector', () => {
    expect(updateNorm(update())).toBe(5)
  })

  it('leaves an update within the bound as it is', () => {
    const u = update()
    expect(applyNormBound(u, { maxNorm: 5, policy: 'reject' })).toEqual({
      update: u,
      norm: 5,
      clipped: false,
    })
  })

  it('clips by scaling the whole update, keeping its direction', () => {
    const { update: clipped, norm, clipped: was } = applyNormBound(update(), { maxNorm: 1, policy: 'clip' })
    expect({ norm, was }).toEqual({ norm: 1, was: true })
    expect(Array.from(clipped.tensors[0]!.values)).toEqual([expect.closeTo(0.6, 6), 0])
    expect(Array.from(clipped.tensors[1]!.values)).toEqual([expect.closeTo(0.8, 6)])
    expect(updateNorm(clipped)).toBeCloseTo(1, 6)
  })

  it('refuses under reject, saying what to do', () => {
    expect(() => applyNormBound(update(), { maxNorm: 1, policy: 'reject' })).toThrow(
      expect.objectContaining({
        code: 'update_norm_too_large',
        message: expect.stringMatching(/learning rate/),
      }),
    )
  })

  it('is off with an infinite bound', () => {
    expect(applyNormBound(update(), { maxNorm: Number.POSITIVE_INFINITY, policy: 'reject' }).clipped).toBe(
      false,
    )
  })
})
