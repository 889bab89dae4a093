/** The cart's sums: subtotal, units, delivery (free from $50) and total. Pure: tested in Node. */

export const FREE_DELIVERY_FROM = 50
export const DELIVERY_FEE = 4.95

/** The sums of a cart. */
export interface CartTotals {
  subtotal: number
  units: number
  /** 0 from FREE_DELIVERY_FROM on, else DELIVERY_FEE. */
  delivery: number
  total: number
}

/**
 * Adds up lines of `qty` units at `price`.
 * @example cartTotals([{ qty: 2, price: 10 }]) // { subtotal: 20, units: 2, delivery: 4.95, total: 24.95 }
 */
export function cartTotals(lines: readonly { qty: number; price: number }[]): CartTotals {
  const subtotal = lines.reduce((sum, l) => sum + l.qty * l.price, 0)
  const units = lines.reduce((sum, l) => sum + l.qty, 0)
  const delivery = subtotal >= FREE_DELIVERY_FROM ? 0 : DELIVERY_FEE
  return { subtotal, units, delivery, total: subtotal + delivery }
}
