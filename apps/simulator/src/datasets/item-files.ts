// Where a data set's item metadata lives and which loader reads it: the `--items` file, or the file the
// data set's format puts beside its interactions.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { DatasetError } from '../errors.ts'
import type { DatasetFormat } from './interaction.ts'
import type { ItemCatalogue } from './item-meta.ts'
import { parseItemsCsv } from './items-csv.ts'
import { parseMovieLensItems } from './movielens-items.ts'
import { parseOnlineRetailItems } from './online-retail-items.ts'

/**
 * Parses item metadata in the format the interactions' format implies: MovieLens `u.item`, Online Retail's
 * own CSV, and for `generic` the items CSV `item,category,brand,price,title` (REES46's items.csv). OTTO
 * publishes no item metadata.
 * @throws DatasetError for OTTO, or naming `path` and the line of the first malformed line
 * @example parseItemMeta('generic', 'item,category,brand,price,title\n1,a.b,x,2.5,\n', 'items.csv')
 */
export function parseItemMeta(format: DatasetFormat, text: string, path: string): ItemCatalogue {
  const parse = ITEM_PARSERS[format]
  if (!parse) throw new DatasetError('unknown_format', `${path}: ${format} has no item metadata format`)
  return parse(text, path)
}

/** The item-metadata parser of each interaction format (a Record, so a new format must say which). */
const ITEM_PARSERS: Record<DatasetFormat, ((text: string, path: string) => ItemCatalogue) | undefined> = {
  movielens: parseMovieLensItems,
  'online-retail': parseOnlineRetailItems,
  generic: parseItemsCsv,
  // The OTTO data set publishes no item metadata.
  otto: undefined,
}

/**
 * The item file a data set implies when `--items` is not given, if it exists: `u.item` beside MovieLens's
 * `u.data`, `items.csv` beside a generic event CSV (REES46's layout), and the Online Retail CSV itself
 * (descriptions and prices are on its sale lines). Undefined for OTTO or when the file is not there.
 * @example itemsFileBeside('movielens', '/data/ml-100k/u.data') // '/data/ml-100k/u.item'
 */
export function itemsFileBeside(format: DatasetFormat, dataPath: string): string | undefined {
  const candidate =
    format === 'movielens'
      ? join(dirname(dataPath), 'u.item')
      : format === 'generic'
        ? join(dirname(dataPath), 'items.csv')
        : format === 'online-retail'
          ? dataPath
          : undefined
  return candidate !== undefined && existsSync(candidate) ? candidate : undefined
}

/**
 * Reads and parses an item file (MovieLens's as ISO-8859-1, the rest as UTF-8).
 * @throws DatasetError when the file cannot be read, has no item, or has a malformed line
 * @example const catalogue = loadItemMeta('movielens', '../shared/data/ml-100k/u.item')
 */
export function loadItemMeta(format: DatasetFormat, path: string): ItemCatalogue {
  let text: string
  try {
    text = readFileSync(path, format === 'movielens' ? 'latin1' : 'utf8')
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new DatasetError('unreadable', `cannot read ${path}: ${why}`, { cause: err })
  }
  const catalogue = parseItemMeta(format, text, path)
  if (catalogue.items.size === 0) throw new DatasetError('empty', `${path}: no item metadata`)
  return catalogue
}
