// The shop's cart, kept on the device and checked on read, since storage is outside the code's control.

/** One line of the cart: a product id and how many. */
export interface CartLine {
  id: string
  qty: number
}

/** The shopper's cart, kept in localStorage so it survives reloads (and is shared by tabs). */
export interface Cart {
  lines(): readonly CartLine[]
  /** Total number of units. */
  count(): number
  add(id: string, qty?: number): void
  setQty(id: string, qty: number): void
  remove(id: string): void
  clear(): void
  /** Calls `listener` after every change, including changes made in another tab. */
  subscribe(listener: () => void, signal?: AbortSignal): void
}

export const CART_KEY = 'bramble:cart'
export const MAX_QTY = 99

/**
 * Reads a stored cart. Whatever is in storage came from outside this code's control (an old version, another
 * tab, a curious shopper), so it is checked line by line and bad lines are dropped.
 */
export function parseCart(raw: string | null): CartLine[] {
  if (raw === null) return []
  let data: unknown
  try {
    data = JSON.parse(raw)
  } catch {
    return []
  }
  if (!Array.isArray(data)) return []
  const lines = new Map<string, number>()
  for (const entry of data) {
    if (typeof entry !== 'object' || entry === null) continue
    const id: unknown = Reflect.get(entry, 'id')
    const qty: unknown = Reflect.get(entry, 'qty')
    if (typeof id !== 'string' || id === '' || typeof qty !== 'number' || !Number.isInteger(qty) || qty < 1)
      continue
    lines.set(id, Math.min(MAX_QTY, (lines.get(id) ?? 0) + qty))
  }
  return [...lines].map(([id, qty]) => ({ id, qty }))
}

/**
 * Creates the cart over a Storage (localStorage in the page; null where storage is blocked, which keeps the
 * cart in memory for this visit).
 * @example const cart = createCart(window.localStorage); cart.add('sku-kitchen-007')
 */
export function createCart(storage: Storage | null, { key = CART_KEY } = {}): Cart {
  const listeners = new Set<() => void>()
  let memory: CartLine[] = []

  const read = (): CartLine[] => {
    if (!storage) return memory
    try {
      return parseCart(storage.getItem(key))
    } catch {
      return memory
    }
  }
  const write = (lines: CartLine[]): void => {
    memory = lines
    try {
      storage?.setItem(key, JSON.stringify(lines))
    } catch {
      // Quota or privacy mode: the in-memory copy still serves this visit.
    }
    for (const listener of listeners) listener()
  }
  const clampQty = (qty: number): number => Math.max(0, Math.min(MAX_QTY, Math.floor(qty)))

  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (event) => {
      if (event.key === key || event.key === null) for (const listener of listeners) listener()
    })
  }

  return {
    lines: read,
    count: () => read().reduce((sum, line) => sum + line.qty, 0),
    add(id, qty = 1) {
      const lines = read()
      const line = lines.find((l) => l.id === id)
      if (line) line.qty = clampQty(line.qty + qty)
      else lines.push({ id, qty: clampQty(qty) })
      write(lines.filter((l) => l.qty > 0))
    },
    setQty(id, qty) {
      write(
        read()
          .map((l) => (l.id === id ? { id, qty: clampQty(qty) } : l))
          .filter((l) => l.qty > 0),
      )
    },
    remove(id) {
      write(read().filter((l) => l.id !== id))
    },
    clear() {
      write([])
    },
    subscribe(listener, signal) {
      listeners.add(listener)
      signal?.addEventListener('abort', () => listeners.delete(listener), { once: true })
    },
  }
}
