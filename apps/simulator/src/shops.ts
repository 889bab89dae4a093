// Issue 18 part 4, the data side: one data set cut into two "shops" by a real attribute, each with its own
// shoppers and its own item id table, sharing only the feature strings of their items.
import { metaFeatureStrings } from './catalogue-features.ts'
import type { ItemCatalogue, LoadedDataset } from './datasets/index.ts'
import { SimulationError } from './errors.ts'
import { leaveOneOut, type SplitDataset } from './split.ts'

/**
 * How a data set is cut into two shops:
 * - `country`: Online Retail's customers of the United Kingdom form the large shop, every other country the
 *   small one (the shop's export customers, ~10 % of them);
 * - `time`: shoppers by their first event; the last `smallShare` of them (default 0.2) are a small shop that
 *   opened later (MovieLens, REES46);
 * - `category`: every event on an item whose top-level category is `family` goes to the small shop, the
 *   rest to the large one (REES46 `category:appliances`); a shopper of both is a different shopper in each.
 */
export type ShopRule =
  | { kind: 'country' }
  | { kind: 'time'; smallShare: number }
  | { kind: 'category'; family: string }

/** One shop: its name and its own interactions (item ids are its own; the same id in the other shop is another item). */
export interface Shop {
  name: string
  data: LoadedDataset
}

/** A shop after leave-one-out: its split (its own rows) and each row's feature strings. */
export interface SplitShop extends Shop {
  split: SplitDataset
  /** Row r's feature strings (`metaFeatureStrings`, core's `itemFeatureStrings`); empty without metadata. */
  features: string[][]
}

/**
 * Parses `--shops`: `country`, `time`, `time:<share>` (0 < share < 1) or `category:<family>`.
 * @throws SimulationError('bad_option') for anything else
 * @example parseShopRule('time:0.15') // { kind: 'time', smallShare: 0.15 }
 */
export function parseShopRule(text: string): ShopRule {
  const [kind, arg, ...rest] = text.split(':')
  const bad = (why: string) =>
    new SimulationError(
      'bad_option',
      `--shops ${JSON.stringify(text)}: ${why} (country, time[:share] or category:<family>)`,
    )
  if (rest.length > 0) throw bad('one ":" at most')
  if (kind === 'country' && arg === undefined) return { kind }
  if (kind === 'time') {
    if (arg === undefined) return { kind, smallShare: 0.2 }
    const share = Number(arg)
    if (!(arg.trim() !== '' && share > 0 && share < 1))
      throw bad('the share must be a number between 0 and 1')
    return { kind, smallShare: share }
  }
  if (kind === 'category' && arg !== undefined && arg.trim() !== '') return { kind, family: arg.trim() }
  throw bad('unknown rule')
}

/** What a rule needs besides the interactions: the customers' countries, the item metadata. */
export interface ShopAttributes {
  countryOf?: ReadonlyMap<string, string>
  catalogue?: ItemCatalogue
}

/**
 * The data set's two shops, large first. Shoppers keep their ids within a shop; a shop's item table holds
 * the items its shoppers touched.
 * @throws SimulationError('bad_option') when the rule needs an attribute the data set lacks, or a shop is empty
 * @example const [large, small] = splitShops(data, { kind: 'country' }, { countryOf })
 */
export function splitShops(data: LoadedDataset, rule: ShopRule, attributes: ShopAttributes): [Shop, Shop] {
  const { large, small, names } = assign(data, rule, attributes)
  const shop = (name: string, interactions: LoadedDataset['interactions']): Shop => {
    if (interactions.length === 0)
      throw new SimulationError('bad_option', `--shops: the ${name} shop has no interactions in ${data.path}`)
    return { name, data: { ...data, interactions } }
  }
  return [shop(names[0], large), shop(names[1], small)]
}

function assign(data: LoadedDataset, rule: ShopRule, { countryOf, catalogue }: ShopAttributes) {
  const large: LoadedDataset['interactions'] = []
  const small: LoadedDataset['interactions'] = []
  if (rule.kind === 'country') {
    if (!countryOf)
      throw new SimulationError('bad_option', "--shops country needs customers' countries (Online Retail)")
    for (const e of data.interactions) (countryOf.get(e.user) === 'United Kingdom' ? large : small).push(e)
    return { large, small, names: ['United Kingdom', 'other countries'] as const }
  }
  if (rule.kind === 'category') {
    if (!catalogue)
      throw new SimulationError('bad_option', '--shops category needs item metadata with categories')
    for (const e of data.interactions) {
      const top = catalogue.items.get(e.item)?.categories[0]?.split('.')[0]
      ;(top === rule.family ? small : large).push(e)
    }
    return { large, small, names: [`not ${rule.family}`, rule.family] as const }
  }
  const first = new Map<string, number>()
  for (const e of data.interactions) first.set(e.user, Math.min(first.get(e.user) ?? Infinity, e.timestamp))
  const order = [...first.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const cut = Math.round(order.length * (1 - rule.smallShare))
  const late = new Set(order.slice(cut).map(([user]) => user))
  for (const e of data.interactions) (late.has(e.user) ? small : large).push(e)
  return { large, small, names: ['earlier shoppers', 'later shoppers'] as const }
}

/**
 * Each shop split leave-one-out on its own (its negatives drawn from its own catalogue), with its rows'
 * feature strings from the shared item metadata.
 * @example const shops = splitEachShop(splitShops(data, rule, attrs), catalogue, { negatives: 99, seed: 1 })
 */
export function splitEachShop(
  shops: readonly Shop[],
  catalogue: ItemCatalogue | undefined,
  options: { negatives: number; seed: number },
): SplitShop[] {
  return shops.map((shop) => {
    const split = leaveOneOut(shop.data, options)
    const features = split.itemIds.map((id) => {
      const meta = catalogue?.items.get(id)
      return meta && catalogue ? metaFeatureStrings(meta, catalogue.categoryKind) : []
    })
    return { ...shop, split, features }
  })
}

/**
 * Several shops' splits as one: the union table holds shop k's rows at `offsets[k]…`, its shoppers follow the
 * previous shops' (their events, held-out items and negatives moved to the union rows). What the aggregator
 * of shops federating together sees; `shopOfUser[i]` is shopper i's shop.
 * @example const { split, offsets, shopOfUser } = unionOfShops([small.split, large.split], ['s', 'l'])
 */
export function unionOfShops(
  splits: readonly SplitDataset[],
  names: readonly string[],
): { split: SplitDataset; offsets: number[]; shopOfUser: Int32Array } {
  const offsets: number[] = []
  let rows = 0
  for (const s of splits) {
    offsets.push(rows)
    rows += s.itemIds.length
  }
  const shift = (k: number) => (row: number) => row + offsets[k]!
  const users: SplitDataset['users'] = []
  const evalUsers: number[] = []
  const shopOfUser: number[] = []
  const recentCounts = new Float64Array(rows)
  const counts = { interactions: 0, users: 0, items: rows, evalUsers: 0, trainEvents: 0 }
  splits.forEach((s, k) => {
    const at = shift(k)
    const moveEvents = (events: SplitDataset['users'][number]['train']) =>
      events.map((e) => ({ ...e, row: at(e.row) }))
    for (const index of s.evalUsers) evalUsers.push(users.length + index)
    for (const u of s.users) {
      users.push({
        id: `${names[k]}:${u.id}`,
        train: moveEvents(u.train),
        trainRows: new Set([...u.trainRows].map(at)),
        validation: u.validation === undefined ? undefined : at(u.validation),
        test: u.test === undefined ? undefined : at(u.test),
        testContext: moveEvents(u.testContext),
        validationContext: moveEvents(u.validationContext),
        negatives: u.negatives.map(at),
      })
      shopOfUser.push(k)
    }
    recentCounts.set(s.recentCounts, offsets[k])
    counts.interactions += s.counts.interactions
    counts.users += s.counts.users
    counts.evalUsers += s.counts.evalUsers
    counts.trainEvents += s.counts.trainEvents
  })
  const itemIds = splits.flatMap((s, k) => s.itemIds.map((id) => `${names[k]}:${id}`))
  return {
    split: { itemIds, users, recentCounts, evalUsers, counts },
    offsets,
    shopOfUser: Int32Array.from(shopOfUser),
  }
}
