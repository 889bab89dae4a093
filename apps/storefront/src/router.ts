// The storefront's hash routes, both ways: a URL to a page and a page to a link.

/** The pages of the shop, parsed from `location.hash`. */
export type Route =
  | { type: 'home'; category: string | null }
  | { type: 'product'; id: string }
  | { type: 'cart' }
  | { type: 'privacy' }
  /** The shop's search; `query` as typed ('' for the bare search page). */
  | { type: 'search'; query: string }
  | { type: 'not-found'; hash: string }

/**
 * Hash routes keep the shop a static site (any file server, `vite preview`, a CDN) with shareable URLs.
 * @example parseRoute('#/product/sku-kitchen-007') // { type: 'product', id: 'sku-kitchen-007' }
 */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+|\/+$/g, '')
  if (path === '') return { type: 'home', category: null }
  const [head, ...rest] = path.split('/')
  const arg = rest.length === 1 ? safeDecode(rest[0]!) : null
  switch (head) {
    case 'category':
      if (arg) return { type: 'home', category: arg }
      break
    case 'product':
      if (arg) return { type: 'product', id: arg }
      break
    case 'cart':
      if (rest.length === 0) return { type: 'cart' }
      break
    case 'privacy':
      if (rest.length === 0) return { type: 'privacy' }
      break
    case 'search':
      if (rest.length === 0) return { type: 'search', query: '' }
      if (arg) return { type: 'search', query: arg }
      break
  }
  return { type: 'not-found', hash }
}

/** The hash for a route; the inverse of parseRoute for every route it can return except not-found. */
export function href(route: Exclude<Route, { type: 'not-found' }>): string {
  switch (route.type) {
    case 'home':
      return route.category ? `#/category/${encodeURIComponent(route.category)}` : '#/'
    case 'product':
      return `#/product/${encodeURIComponent(route.id)}`
    case 'cart':
      return '#/cart'
    case 'privacy':
      return '#/privacy'
    case 'search':
      return route.query === '' ? '#/search' : `#/search/${encodeURIComponent(route.query)}`
    default: {
      const unreachable: never = route
      return unreachable
    }
  }
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment) || null
  } catch {
    return null
  }
}
