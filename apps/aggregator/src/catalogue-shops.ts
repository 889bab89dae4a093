// `--catalogue a=shop-a.json,b=shop-b.json`: several shops' catalogues in one model, each shop's ids under its
// namespace (`a:sku-1`), so shops with different catalogues train the shared feature rows together.
import { existsSync, readFileSync } from 'node:fs'
import { type CatalogueItem, parseCatalogue, readCatalogueFile } from './catalogue.ts'
import { StartupError } from './errors.ts'

/** A shop's namespace: what the browser library's `shop` option takes (1..32 letters, digits, `_`, `-`). */
const SHOP_NAME = /^[A-Za-z0-9_-]{1,32}$/

/**
 * The `--catalogue` value: a file (see readCatalogueFile), or a comma-separated list of `<shop>=<file>`,
 * one per shop sharing the model. Each file is an ordinary catalogue (the shop's own export); its ids become
 * `<shop>:<id>` — the ids the library uses for a recommender created with `shop` — in the order of the list,
 * its features as they are. A value naming an existing file is that file, whatever characters it has.
 * @throws StartupError for a bad list (a part without `=`, a bad or repeated shop name, an empty file
 *   name) or a bad file, naming it
 * @example readCatalogueSpec('bramble=bramble.json,fjord=fjord.json')[0].id // 'bramble:…'
 */
export function readCatalogueSpec(spec: string): CatalogueItem[] {
  if (existsSync(spec) || !spec.includes('=')) return readCatalogueFile(spec)
  const shops = new Set<string>()
  const items: CatalogueItem[] = []
  for (const part of spec.split(',')) {
    const at = part.indexOf('=')
    const shop = at < 0 ? '' : part.slice(0, at).trim()
    const file = at < 0 ? '' : part.slice(at + 1).trim()
    if (at < 0 || file === '')
      throw new StartupError(
        `--catalogue ${JSON.stringify(part)}: each shop of a list is <shop>=<file>, e.g. a=shop-a.json,b=shop-b.json`,
      )
    if (!SHOP_NAME.test(shop))
      throw new StartupError(
        `--catalogue ${JSON.stringify(part)}: a shop name is 1 to 32 letters, digits, '_' or '-', got ${JSON.stringify(shop)}`,
      )
    if (shops.has(shop)) throw new StartupError(`--catalogue: shop ${JSON.stringify(shop)} is listed twice`)
    shops.add(shop)
    items.push(...readShopFile(shop, file))
  }
  return items
}

/** One shop's catalogue file, its ids under the shop's namespace. */
function readShopFile(shop: string, path: string): CatalogueItem[] {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new StartupError(
      `cannot read catalogue ${path} of shop ${shop}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    )
  }
  // An empty id stays empty, so the check below refuses it rather than taking the bare `<shop>:`.
  const named = (id: unknown) => (typeof id === 'string' && id !== '' ? `${shop}:${id}` : id)
  const entries = Array.isArray(json)
    ? json.map((entry: unknown) =>
        typeof entry === 'object' && entry !== null && 'id' in entry
          ? { ...entry, id: named((entry as { id: unknown }).id) }
          : named(entry),
      )
    : json
  try {
    return parseCatalogue(entries, `${path} (shop ${shop})`)
  } catch (err) {
    throw new StartupError(err instanceof Error ? err.message : String(err), { cause: err })
  }
}
