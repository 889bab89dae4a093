import { describe, expect, it } from 'vitest'
import { buildRowTables } from './row-table.ts'

/** Row r of batch b's table, without its padding. */
const entries = (t: ReturnType<typeof buildRowTables>, rows: number, b: number, r: number, pad: number) =>
  Array.from(t.values.subarray((b * rows + r) * t.width, (b * rows + r + 1) * t.width)).filter(
    (v) => v !== pad,
  )

describe('buildRowTables', () => {
  it('lists, per slice row, the positions of the pairs that touch it', () => {
    const t = buildRowTables(Int32Array.of(0, 0), Int32Array.of(1, 2), {
      batches: 1,
      batch: 2,
      rows: 3,
      count: 2,
    })
    expect(t.width).toBe(4)
    expect(Array.from(t.values)).toEqual([0, 1, 4, 4, 2, 4, 4, 4, 3, 4, 4, 4])
  })

  it('numbers positions within each batch, negatives after the B positives, and skips padding pairs', () => {
    // Two batches of 3; the last pair (position 5) is padding and points at row 0 like padding does.
    const positives = Int32Array.of(1, 2, 1, 3, 1, 0)
    const negatives = Int32Array.of(0, 0, 3, 2, 0, 0)
    const t = buildRowTables(positives, negatives, { batches: 2, batch: 3, rows: 4, count: 5 })
    expect(t.width).toBe(4)
    expect(entries(t, 4, 0, 0, 6)).toEqual([3, 4]) // negatives of pairs 0 and 1
    expect(entries(t, 4, 0, 1, 6)).toEqual([0, 2])
    expect(entries(t, 4, 0, 2, 6)).toEqual([1])
    expect(entries(t, 4, 0, 3, 6)).toEqual([5])
    expect(entries(t, 4, 1, 0, 6)).toEqual([4]) // pair 4 (i = 1): its negative; pair 5 is padding
    expect(entries(t, 4, 1, 1, 6)).toEqual([1])
    expect(entries(t, 4, 1, 2, 6)).toEqual([3])
    expect(entries(t, 4, 1, 3, 6)).toEqual([0])
  })

  it('widens to the busiest row, a power of two', () => {
    const n = 9
    const t = buildRowTables(
      new Int32Array(n),
      Int32Array.from({ length: n }, (_, i) => 1 + (i % 2)),
      {
        batches: 1,
        batch: n,
        rows: 3,
        count: n,
      },
    )
    expect(t.width).toBe(16)
    expect(entries(t, 3, 0, 0, 2 * n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('refuses a row outside the slice', () => {
    expect(() =>
      buildRowTables(Int32Array.of(0), Int32Array.of(3), { batches: 1, batch: 1, rows: 3, count: 1 }),
    ).toThrow(/row 3 is outside 0..2/)
  })
})
