// The item catalogue as it comes from outside (the --catalogue file, the operator's POST /catalogue), checked
// before any id becomes a model row.
import { readFileSync } from 'node:fs'
import { MAX_ITEM_ID_BYTES } from '@fedrec/protocol'
import { StartupError } from './errors.ts'

/** An item id the model format cannot carry (empty, too long) or a catalogue that is not a list of ids. */
export class CatalogueError extends Error {
  override name = 'CatalogueError'
}

const utf8 = new TextEncoder()

/**
 * Checks a list of item ids from outside (a request body or a file): strings of 1..256 UTF-8 bytes, or
 * objects with such an `id`. Returns them in order without repeats.
 * @throws CatalogueError naming the first bad entry
 * @example parseItemIds(['sku-1', { id: 'sku-2', title: 'Mug' }]) // ['sku-1', 'sku-2']
 */
export function parseItemIds(input: unknown, what = 'catalogue'): string[] {
  if (!Array.isArray(input))
    throw new CatalogueError(`${what} must be an array of item ids, got ${typeOf(input)}`)
  const seen = new Set<string>()
  const out: string[] = []
  input.forEach((entry: unknown, i) => {
    const id =
      typeof entry === 'object' && entry !== null && 'id' in entry ? (entry as { id: unknown }).id : entry
    if (typeof id !== 'string')
      throw new CatalogueError(`${what}[${i}]: item id must be a string, got ${typeOf(id)}`)
    const bytes = utf8.encode(id).length
    if (bytes === 0 || bytes > MAX_ITEM_ID_BYTES)
      throw new CatalogueError(
        `${what}[${i}]: item id must be 1..${MAX_ITEM_ID_BYTES} UTF-8 bytes, got ${bytes}`,
      )
    if (!seen.has(id)) {
      seen.add(id)
      out.push(id)
    }
  })
  return out
}

/**
 * Reads a catalogue file: JSON, an array of item-id strings or of objects with an `id` string.
 * @throws StartupError when the file cannot be read or parsed
 * @example const itemIds = readCatalogueFile('apps/storefront/public/catalogue.json')
 */
export function readCatalogueFile(path: string): string[] {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new StartupError(
      `cannot read catalogue ${path}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    )
  }
  try {
    return parseItemIds(json, path)
  } catch (err) {
    throw new StartupError(err instanceof Error ? err.message : String(err), { cause: err })
  }
}

const typeOf = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x)
