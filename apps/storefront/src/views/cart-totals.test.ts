import { describe, expect, it } from 'vitest'
import { cartTotals } from './cart-totals.ts'

describe('cart totals', () => {
  it('charges delivery below $50', () => {
    expect(cartTotals([{ qty: 2, price: 10 }])).toEqual({
      subtotal: 20,
      units: 2,
      delivery: 4.95,
      total: 24.95,
    })
  })

  it('delivers free from $50 on', () => {
    expect(
      cartTotals([
        { qty: 1, price: 30 },
        { qty: 2, price: 10 },
      ]),
    ).toEqual({ subtotal: 50, units: 3, delivery: 0, total: 50 })
  })

  it('an empty cart is all zeros but delivery', () => {
    expect(cartTotals([])).toEqual({ subtotal: 0, units: 0, delivery: 4.95, total: 4.95 })
  })
})
