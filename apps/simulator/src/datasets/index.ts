// The simulator's data-set loaders behind one entry: pick the parser by format, read the file, refuse an
// empty result.
import { readFileSync } from 'node:fs'
import { DatasetError } from '../errors.ts'
import { parseGenericCsv } from './generic.ts'
import type { DatasetFormat, LoadedDataset } from './interaction.ts'
import { parseMovieLens } from './movielens.ts'
import { parseOnlineRetail } from './online-retail.ts'
import { parseOtto } from './otto.ts'

export {
  DATASET_FORMATS,
  type DatasetFormat,
  type Interaction,
  isDatasetFormat,
  type LoadedDataset,
} from './interaction.ts'
export { itemsFileBeside, loadItemMeta, parseItemMeta } from './item-files.ts'
export {
  assignPriceBands,
  type CategoryKind,
  type ItemCatalogue,
  type ItemMeta,
  PRICE_BANDS,
  titleTokens,
} from './item-meta.ts'
export { categoryPath, parseItemsCsv } from './items-csv.ts'
export { MOVIELENS_GENRES, parseMovieLensItems } from './movielens-items.ts'
export { parseOnlineRetailItems } from './online-retail-items.ts'
export { parseGenericCsv, parseMovieLens, parseOnlineRetail, parseOtto }

/**
 * Parses a data set's text in the given format (pure: no file access, so it runs anywhere).
 * @example const data = parseDataset('movielens', text, 'u.data')
 */
export function parseDataset(format: DatasetFormat, text: string, path: string): LoadedDataset {
  switch (format) {
    case 'movielens':
      return parseMovieLens(text, path)
    case 'online-retail':
      return parseOnlineRetail(text, path)
    case 'otto':
      return parseOtto(text, path)
    case 'generic':
      return parseGenericCsv(text, path)
    default: {
      const unknown: never = format
      throw new DatasetError('unknown_format', `unknown data-set format ${String(unknown)}`)
    }
  }
}

/**
 * Reads and parses a data-set file.
 * @throws DatasetError when the file cannot be read, is empty or has a malformed line
 * @example const data = loadDataset('movielens', '../shared/data/ml-100k/u.data')
 */
export function loadDataset(format: DatasetFormat, path: string): LoadedDataset {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new DatasetError(
      'unreadable',
      `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    )
  }
  const data = parseDataset(format, text, path)
  if (data.interactions.length === 0) throw new DatasetError('empty', `${path}: no usable interactions`)
  return data
}
