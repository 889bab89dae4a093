/**
 * Writes public/catalogue.json: 8 categories × 30 products, the same bytes on every run.
 * The aggregator reads this file as its item catalogue (`--catalogue apps/storefront/public/catalogue.json`),
 * so ids must stay stable: regenerate only when the catalogue is meant to change.
 *
 *   npx tsx apps/storefront/scripts/generate-catalogue.ts
 *
 * A second demo shop (public/catalogue-b.json, for shops sharing one model): other products and ids from
 * the same categories, nouns and brands — the same feature vocabulary —
 *
 *   npx tsx apps/storefront/scripts/generate-catalogue.ts --seed 7 --id-prefix item --per-category 12 --out public/catalogue-b.json
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { Product } from '../src/catalogue.ts'

interface CategorySpec {
  name: string
  color: string
  /** Style or series words that read well in front of every noun of the category. */
  adjectives: string[]
  /**
   * Makers: a product's brand follows its series (adjective i → brands[i mod n]), not the random stream, so
   * adding brands left every other field of the catalogue byte for byte as it was.
   */
  brands: string[]
  /** Product kinds with their price range in whole currency units (prices end in .00, .50 or .99). */
  nouns: [noun: string, low: number, high: number][]
  /** Sentence templates; `{noun}` becomes the product's noun in lower case. */
  blurbs: string[]
}

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '20240601' },
    'id-prefix': { type: 'string', default: 'sku' },
    'per-category': { type: 'string', default: '30' },
    out: { type: 'string', default: 'public/catalogue.json' },
  },
})
const SEED = Number(args.seed)
const ID_PREFIX = args['id-prefix']
const PER_CATEGORY = Number(args['per-category'])
if (!Number.isInteger(SEED) || SEED < 0) throw new Error(`--seed must be an integer ≥ 0, got ${args.seed}`)
if (!/^[a-z0-9-]+$/.test(ID_PREFIX))
  throw new Error(`--id-prefix must be lower-case letters, digits or -, got ${ID_PREFIX}`)
if (!Number.isInteger(PER_CATEGORY) || PER_CATEGORY < 1)
  throw new Error(`--per-category must be a positive integer, got ${args['per-category']}`)

const CATEGORIES: CategorySpec[] = [
  {
    name: 'Kitchen',
    color: '#c8553d',
    brands: ['Hearthstone', 'Copper & Oak', 'Maison Verre'],
    adjectives: ['Farmhouse', 'Heritage', 'Nordic', 'Everyday', 'Hearth', 'Harbour', 'Bistro', 'Morning'],
    nouns: [
      ['Skillet', 25, 70],
      ['Dutch Oven', 60, 140],
      ['Kettle', 30, 90],
      ['Mixing Bowl', 12, 35],
      ['Cutting Board', 18, 55],
      ['Teapot', 20, 60],
      ['Colander', 12, 30],
      ['Mug Set', 16, 45],
    ],
    blurbs: [
      'A {noun} that earns its place on the counter and cleans up in seconds.',
      'Built for daily cooking; this {noun} only gets better with use.',
      'A sturdy {noun} sized for weeknight dinners and weekend baking.',
      'Dishwasher-safe {noun} with a finish that resists chips and stains.',
    ],
  },
  {
    name: 'Outdoor',
    color: '#2f7d6d',
    brands: ['Northbound', 'Fjellvik', 'Trailcraft'],
    adjectives: [
      'Trailhead',
      'Alpine',
      'Packable',
      'Weatherproof',
      'Ultralight',
      'Canyon',
      'Ridge',
      'Summit',
    ],
    nouns: [
      ['Tent', 90, 320],
      ['Sleeping Bag', 60, 220],
      ['Headlamp', 15, 55],
      ['Daypack', 35, 120],
      ['Camp Stove', 30, 110],
      ['Water Filter', 20, 60],
      ['Hammock', 25, 80],
      ['Rain Shell', 60, 200],
    ],
    blurbs: [
      'A {noun} that packs small and sets up fast after a long day.',
      'Tested in wind and rain, this {noun} keeps going when you do.',
      'Light enough for long hikes; this {noun} weighs less than you expect.',
      'A dependable {noun} for weekend trips and longer adventures.',
    ],
  },
  {
    name: 'Books',
    color: '#6d4c7d',
    brands: ['Lantern Press', 'Wren & Co.', 'Blue Fern Books'],
    adjectives: [
      'The Quiet',
      'The Northern',
      'The Hidden',
      'The Coastal',
      'The Little',
      'The Winter',
      'The Wild',
      'The Forgotten',
    ],
    nouns: [
      ['Atlas', 25, 45],
      ['Cookbook', 18, 35],
      ['Field Guide', 12, 25],
      ['Almanac', 10, 22],
      ['Memoir', 12, 24],
      ['Garden Diary', 10, 20],
      ['Star Chart', 8, 18],
      ['Novel', 8, 18],
    ],
    blurbs: [
      'A {noun} to read slowly, with a cup of tea and a free afternoon.',
      'Beautifully bound {noun}, illustrated throughout; a lovely gift.',
      'Reviewers call this {noun} warm, clever and hard to put down.',
      'A pocket-sized {noun} that earns its place on any shelf.',
    ],
  },
  {
    name: 'Toys',
    color: '#c98a12',
    brands: ['Tinker Tree', 'Popwood', 'Little Orbit'],
    adjectives: ['Rainbow', 'Woodland', 'Classic', 'Explorer', 'Sunny', 'Jumbo', 'Starlight', 'Meadow'],
    nouns: [
      ['Wooden Train Set', 30, 80],
      ['Jigsaw Puzzle', 10, 25],
      ['Wind-Up Robot', 12, 30],
      ['Building Blocks', 20, 55],
      ['Kite', 15, 40],
      ['Spinning Top', 6, 15],
      ['Marble Run', 25, 70],
      ['Teddy Bear', 15, 40],
    ],
    blurbs: [
      'A {noun} made to be played with, dropped and played with again.',
      'Open-ended {noun} for ages 3 and up; no batteries required.',
      'A {noun} that keeps small hands busy and big imaginations busier.',
      'Finished with child-safe paints; this {noun} is built to last.',
    ],
  },
  {
    name: 'Beauty',
    color: '#c2577f',
    brands: ['Bloom Apothecary', 'Salt & Stem', 'Lumi'],
    adjectives: ['Rose', 'Oat', 'Sea Salt', 'Lavender', 'Citrus', 'Vanilla', 'Cedar', 'Aloe'],
    nouns: [
      ['Face Oil', 18, 48],
      ['Hand Cream', 8, 22],
      ['Lip Balm', 4, 10],
      ['Body Wash', 9, 20],
      ['Clay Mask', 14, 32],
      ['Bath Soak', 10, 26],
      ['Hair Serum', 16, 38],
      ['Soy Candle', 14, 36],
    ],
    blurbs: [
      'A gentle {noun} with a light scent and no harsh additives.',
      'Small-batch {noun}, cruelty-free and kind to sensitive skin.',
      'A {noun} that turns an ordinary evening into a quiet ritual.',
      'Our best-loved {noun}, now in a refillable glass bottle.',
    ],
  },
  {
    name: 'Garden',
    color: '#5b8c3a',
    brands: ['Greenthumb', 'Hedge & Hollow', 'Potting Shed Co.'],
    adjectives: [
      'Cottage',
      'Allotment',
      'Evergreen',
      'Meadow',
      'Orchard',
      'Hedgerow',
      'Greenhouse',
      'Balcony',
    ],
    nouns: [
      ['Trowel', 8, 25],
      ['Planter', 15, 70],
      ['Watering Can', 18, 45],
      ['Seed Kit', 6, 18],
      ['Pruning Shears', 15, 45],
      ['Raised Bed', 60, 180],
      ['Bird Feeder', 12, 40],
      ['Kneeler', 10, 28],
    ],
    blurbs: [
      'A {noun} for gardeners who like tools that outlive the season.',
      'Sturdy {noun} that shrugs off mud, frost and summer sun.',
      'A {noun} that makes the small daily jobs in the garden a pleasure.',
      'Thoughtfully made {noun}; balcony or allotment, it fits right in.',
    ],
  },
  {
    name: 'Electronics',
    color: '#35609c',
    brands: ['Voltline', 'Sonora', 'Kestrel Audio'],
    adjectives: ['Aero', 'Pulse', 'Nova', 'Echo', 'Lumen', 'Orbit', 'Halo', 'Vertex'],
    nouns: [
      ['Headphones', 40, 280],
      ['Speaker', 30, 220],
      ['Charger', 15, 45],
      ['E-Reader', 90, 200],
      ['Desk Lamp', 25, 90],
      ['Keyboard', 35, 150],
      ['Radio', 25, 110],
      ['Power Bank', 20, 60],
    ],
    blurbs: [
      'A {noun} with all-day battery life and no app to install.',
      'Crisp, reliable {noun} that pairs in seconds and just works.',
      'A {noun} designed to be repaired, not replaced; two-year warranty.',
      'A well-made {noun} with USB-C charging and a tidy braided cable.',
    ],
  },
  {
    name: 'Sports',
    color: '#d4552b',
    brands: ['Fieldhouse', 'Racer Nine', 'Kinetic'],
    adjectives: ['Sprint', 'Apex', 'Momentum', 'Stride', 'Core', 'Velocity', 'Tempo', 'Peak'],
    nouns: [
      ['Yoga Mat', 20, 70],
      ['Running Vest', 30, 90],
      ['Kettlebell', 25, 80],
      ['Tennis Racket', 40, 180],
      ['Jump Rope', 8, 25],
      ['Football', 15, 45],
      ['Water Bottle', 10, 30],
      ['Gym Bag', 25, 75],
    ],
    blurbs: [
      'A {noun} that keeps up with early mornings and hard sessions.',
      'Grippy, durable {noun} for training at home or at the club.',
      'A {noun} chosen by coaches for beginners and seasoned athletes alike.',
      'Built to take a beating; this {noun} comes with a lifetime guarantee.',
    ],
  },
]

/** mulberry32: a tiny seeded PRNG, so the catalogue is identical on every run and every machine. */
function createRng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function pick<T>(items: readonly T[], rng: () => number): T {
  const item = items[Math.floor(rng() * items.length)]
  if (item === undefined) throw new Error('pick() from an empty list')
  return item
}

function shuffled<T>(items: readonly T[], rng: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

function priceIn(low: number, high: number, rng: () => number): number {
  // Skewed towards the cheap end, as real shelves are.
  const whole = Math.round(low + (high - low) * rng() ** 1.6)
  const cents = pick([0, 0.5, 0.99, 0.99], rng)
  return cents === 0.99 ? Math.max(low, whole - 1) + cents : whole + cents
}

function generate(): Product[] {
  const rng = createRng(SEED)
  const products: Product[] = []
  for (const spec of CATEGORIES) {
    const combos = spec.adjectives.flatMap((adjective) =>
      spec.nouns.map(([noun, low, high]) => ({ adjective, noun, low, high })),
    )
    if (combos.length < PER_CATEGORY) throw new Error(`${spec.name}: only ${combos.length} distinct names`)
    const slug = spec.name.toLowerCase()
    shuffled(combos, rng)
      .slice(0, PER_CATEGORY)
      .forEach(({ adjective, noun, low, high }, i) => {
        products.push({
          id: `${ID_PREFIX}-${slug}-${String(i + 1).padStart(3, '0')}`,
          name: `${adjective} ${noun}`,
          category: spec.name,
          subcategory: noun,
          brand: spec.brands[spec.adjectives.indexOf(adjective) % spec.brands.length]!,
          price: Math.round(priceIn(low, high, rng) * 100) / 100,
          description: pick(spec.blurbs, rng).replace('{noun}', noun.toLowerCase()),
          color: spec.color,
        })
      })
  }
  return products
}

const out = new URL(`../${args.out}`, import.meta.url)
const products = generate()
writeFileSync(out, `${JSON.stringify(products, null, 2)}\n`)
console.info(`wrote ${products.length} products to ${out.pathname}`)
