import { describe, expect, it } from 'vitest'
import { interleave } from './interleave.ts'

describe('interleave', () => {
  it('takes one of each group in turn, groups in first-seen order', () => {
    const items = ['b1', 'a1', 'b2', 'b3', 'c1', 'a2']
    expect(interleave(items, (s) => s[0]!)).toEqual(['b1', 'a1', 'c1', 'b2', 'a2', 'b3'])
  })

  it('keeps an empty list empty', () => {
    expect(interleave([], String)).toEqual([])
  })
})
