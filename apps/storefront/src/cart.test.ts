import { describe, expect, it } from 'vitest'
import { createCart, MAX_QTY, parseCart } from './cart.ts'
import { MemoryStorage } from './memory-storage.ts'

describe('parseCart', () => {
  it('drops what is not a cart line and merges duplicates', () => {
    expect(parseCart(null)).toEqual([])
    expect(parseCart('not json')).toEqual([])
    expect(parseCart('{"id":"a"}')).toEqual([])
    expect(
      parseCart(
        JSON.stringify([{ id: 'a', qty: 1 }, { id: 'a', qty: 2 }, { id: 'b', qty: 0 }, { qty: 3 }, 'c']),
      ),
    ).toEqual([{ id: 'a', qty: 3 }])
  })
})

describe('createCart', () => {
  it('adds, changes and removes lines, persisting each change', () => {
    const storage = new MemoryStorage()
    const cart = createCart(storage)
    let changes = 0
    cart.subscribe(() => changes++)
    cart.add('a')
    cart.add('a')
    cart.add('b', 3)
    expect(cart.lines()).toEqual([
      { id: 'a', qty: 2 },
      { id: 'b', qty: 3 },
    ])
    expect(cart.count()).toBe(5)
    expect(createCart(storage).count()).toBe(5)
    cart.setQty('a', 0)
    expect(cart.lines()).toEqual([{ id: 'b', qty: 3 }])
    cart.setQty('b', 1000)
    expect(cart.count()).toBe(MAX_QTY)
    cart.remove('b')
    cart.add('c')
    cart.clear()
    expect(cart.count()).toBe(0)
    expect(changes).toBe(8)
  })

  it('keeps working in memory without storage', () => {
    const cart = createCart(null)
    cart.add('a')
    expect(cart.count()).toBe(1)
  })

  it('stops notifying once the signal aborts', () => {
    const cart = createCart(null)
    const controller = new AbortController()
    let changes = 0
    cart.subscribe(() => changes++, controller.signal)
    cart.add('a')
    controller.abort()
    cart.add('a')
    expect(changes).toBe(1)
  })
})
