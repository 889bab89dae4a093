import type { RerankResult } from '@fedrec/browser'
import { describe, expect, it } from 'vitest'
import { type ListOrder, listOrder, orderNote } from './order-note.ts'

describe('listOrder', () => {
  it('is the answer’s kind, else paused or off', () => {
    const result: RerankResult = {
      kind: 'personal',
      context: 'search',
      modelVersion: 3,
      items: [],
      leftOut: [],
    }
    expect(listOrder(result, false)).toBe('personal')
    expect(listOrder(result, true)).toBe('personal')
    expect(listOrder(null, true)).toBe('paused')
    expect(listOrder(null, false)).toBe('off')
  })
})

describe('orderNote', () => {
  it('claims personal ordering only for a personal order', () => {
    const orders: ListOrder[] = ['personal', 'popular', 'none', 'paused', 'off', 'pending']
    for (const list of ['search', 'promotions'] as const) {
      const notes = orders.map((order) => orderNote(order, list))
      expect(new Set(notes).size).toBe(orders.length)
      expect(notes.filter((note) => /for you|looked at/.test(note))).toEqual([notes[0]])
    }
    expect(orderNote('paused', 'search')).toBe(
      'Best matches first, in our usual order: learning is paused, so nothing is personalised.',
    )
    expect(orderNote('none', 'promotions')).toBe(
      'A few of our featured products, in our usual order: there is no shared model on this device yet.',
    )
  })
})
