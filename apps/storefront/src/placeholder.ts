// The storefront's product pictures: the demo products have no photos, so each gets a generated one.
import type { Product } from './catalogue.ts'

/**
 * Product images are drawn in code: a tinted card with the category's glyph and the product's initials.
 * No image files and no network requests, so the privacy check of the e2e suite sees only the catalogue
 * and the aggregator. Glyphs are 24×24 stroke paths.
 */
const GLYPHS: Record<string, string> = {
  Kitchen: 'M4 10h16v5a5 5 0 0 1-5 5H9a5 5 0 0 1-5-5zM2 10h20M9 7c0-1.2 1-1.8 1-3M14 7c0-1.2 1-1.8 1-3',
  Outdoor: 'M2 20 12 4l10 16zM12 4v16M8.5 20l3.5-6 3.5 6',
  Books: 'M12 6.5C10 5 7 4.5 3.5 4.5v14c3.5 0 6.5.5 8.5 2 2-1.5 5-2 8.5-2v-14c-3.5 0-6.5.5-8.5 2zM12 6.5v14',
  Toys: 'm12 3 2.7 5.6 6.1.8-4.5 4.2 1.1 6.1L12 16.8l-5.4 2.9 1.1-6.1-4.5-4.2 6.1-.8z',
  Beauty: 'M9 3h6v3H9zM8 6h8l1 3v10a2 2 0 0 1-2 2H9a2 2 0 0 1-2-2V9zM7 12h10',
  Garden: 'M5 19C5 10 11 4.5 20 4.5 20 13.5 14 19 5 19zM5 19l9.5-9.5M3 21l2-2',
  Electronics: 'M4 14v-2a8 8 0 0 1 16 0v2M4 14h3v6H5a1 1 0 0 1-1-1zM20 14h-3v6h2a1 1 0 0 0 1-1z',
  Sports: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM3.5 9.5c3 1.5 14 1.5 17 0M3.5 14.5c3-1.5 14-1.5 17 0M12 3v18',
}
const DEFAULT_GLYPH = 'M5 8h14l-1 12H6zM9 8V6a3 3 0 0 1 6 0v2'

/** `color` mixed towards white by `amount` (0..1). */
export function tint(color: string, amount: number): string {
  const n = Number.parseInt(color.slice(1), 16)
  const channel = (shift: number) => {
    const c = (n >> shift) & 0xff
    return Math.round(c + (255 - c) * amount)
      .toString(16)
      .padStart(2, '0')
  }
  return `#${channel(16)}${channel(8)}${channel(0)}`
}

/** `color` darkened towards black by `amount` (0..1). */
export function shade(color: string, amount: number): string {
  const n = Number.parseInt(color.slice(1), 16)
  const channel = (shift: number) =>
    Math.round(((n >> shift) & 0xff) * (1 - amount))
      .toString(16)
      .padStart(2, '0')
  return `#${channel(16)}${channel(8)}${channel(0)}`
}

/** Two letters for the card: 'The Quiet Atlas' → 'QA'. */
export function initials(name: string): string {
  const words = name.split(/[\s-]+/).filter((w) => w && !/^(the|a|an|of|and)$/i.test(w))
  return words
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('')
}

function hash(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

const escapeXml = (text: string): string => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)

const cache = new Map<string, string>()

/** A data: URL of the product's placeholder picture (4:3), memoised per product. */
export function productImage(product: Product): string {
  const cached = cache.get(product.id)
  if (cached) return cached
  const h = hash(product.id)
  // Where the two soft discs sit varies per product, so a grid of one category does not look stamped out.
  const cx = 40 + (h % 320)
  const cy = 30 + ((h >>> 9) % 80)
  const r = 90 + ((h >>> 17) % 70)
  const glyph = GLYPHS[product.category] ?? DEFAULT_GLYPH
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="${tint(product.color, 0.9)}"/><stop offset="1" stop-color="${tint(product.color, 0.74)}"/>
</linearGradient></defs>
<rect width="400" height="300" fill="url(#g)"/>
<circle cx="${cx}" cy="${cy}" r="${r}" fill="#fff" opacity=".35"/>
<circle cx="${400 - cx / 2}" cy="${300 - cy / 3}" r="${r * 0.6}" fill="${product.color}" opacity=".08"/>
<g transform="translate(146 52) scale(4.5)" fill="none" stroke="${product.color}" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round">
<path d="${glyph}"/></g>
<text x="200" y="250" text-anchor="middle" font-family="system-ui,-apple-system,'Segoe UI',Roboto,sans-serif" font-size="34" font-weight="700" letter-spacing="6" fill="${shade(product.color, 0.35)}">${escapeXml(initials(product.name))}</text>
</svg>`
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
  cache.set(product.id, url)
  return url
}
