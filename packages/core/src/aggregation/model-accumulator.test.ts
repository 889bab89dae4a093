import { FEATURE_BIAS, FEATURE_EMBEDDING, ITEM_BIAS, ITEM_EMBEDDING } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { createAccumulator } from './accumulator.ts'
import { DEFAULT_ITEM_ROW_FLOOR, modelAccumulatorOptions } from './model-accumulator.ts'

const base = { numItems: 3, dim: 2, rowNormalization: 'touched' as const, itemRowFloor: undefined }

describe('modelAccumulatorOptions', () => {
  it('lists the item tensors, and the feature tensors when the model has them', () => {
    expect(modelAccumulatorOptions({ ...base, featureRows: undefined }).tensors).toEqual([
      { name: ITEM_EMBEDDING, rows: 3, cols: 2 },
      { name: ITEM_BIAS, rows: 3, cols: 1 },
    ])
    expect(modelAccumulatorOptions({ ...base, featureRows: 8 }).tensors).toEqual([
      { name: ITEM_EMBEDDING, rows: 3, cols: 2 },
      { name: ITEM_BIAS, rows: 3, cols: 1 },
      { name: FEATURE_EMBEDDING, rows: 8, cols: 2 },
      { name: FEATURE_BIAS, rows: 8, cols: 1 },
    ])
  })

  it('floors the item rows by default with item features only, as given otherwise, never under all', () => {
    const floor = (s: Partial<Parameters<typeof modelAccumulatorOptions>[0]>) =>
      modelAccumulatorOptions({ ...base, featureRows: 8, ...s }).rowFloor
    const items = [ITEM_EMBEDDING, ITEM_BIAS]
    expect(floor({})).toEqual({ tensors: items, clients: DEFAULT_ITEM_ROW_FLOOR })
    expect(floor({ featureRows: undefined })).toBeUndefined()
    expect(floor({ featureRows: undefined, itemRowFloor: 7 })).toEqual({ tensors: items, clients: 7 })
    expect(floor({ itemRowFloor: 0 })).toBeUndefined()
    expect(floor({ itemRowFloor: 2.5 })).toEqual({ tensors: items, clients: 2.5 })
    expect(floor({ rowNormalization: 'all', itemRowFloor: 7 })).toBeUndefined()
  })

  it('makes an accumulator that damps a rare item row and leaves the feature rows touched', () => {
    const acc = createAccumulator(modelAccumulatorOptions({ ...base, featureRows: 2, itemRowFloor: 2 }))
    const row = (name: string, cols: number, value: number) => ({
      name,
      cols,
      rowIds: Uint32Array.of(0),
      values: new Float32Array(cols).fill(value),
    })
    // Two clients of 5 samples; only the first touches item row 0 and feature row 0, both by 1.
    acc.add({ sampleCount: 5, tensors: [row(ITEM_BIAS, 1, 1), row(FEATURE_BIAS, 1, 1)] })
    acc.add({ sampleCount: 5, tensors: [{ ...row(ITEM_BIAS, 1, 0), rowIds: Uint32Array.of(2) }] })
    const result = acc.result()
    // Item row 0: 5·1 / max(5, 2 mean clients · 5) = 0.5; the feature row: 5·1 / 5 = 1.
    expect(result.get(ITEM_BIAS)![0]).toBeCloseTo(0.5, 6)
    expect(result.get(FEATURE_BIAS)![0]).toBeCloseTo(1, 6)
  })
})
