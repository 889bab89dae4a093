// MovieLens u.item: a film's genres (its categories), title words and release year.
import { type ItemCatalogue, type ItemMeta, titleTokens } from './item-meta.ts'
import { malformed, parseInteger } from './line-error.ts'

/** u.item's 19 genre flag columns, in file order. */
export const MOVIELENS_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
] as const

const FIELDS = 5 + MOVIELENS_GENRES.length
const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')

/**
 * MovieLens-100K `u.item` (already decoded: the file is ISO-8859-1, read it as `latin1`): 24 pipe-separated
 * fields `id | title | release date (D-Mon-YYYY or DD-Mon-YYYY, or empty) | video date | IMDb URL | 19 genre flags`. The
 * genres flagged 1 are the item's categories (a film can have several); the title's words, without the
 * trailing "(year)", are its tokens. No brand or price.
 * @throws DatasetError naming `path` and the line of the first malformed line
 * @example parseMovieLensItems(readFileSync('u.item', 'latin1'), 'u.item').items.get('1')?.categories // ['Animation', "Children's", 'Comedy']
 */
export function parseMovieLensItems(text: string, path: string): ItemCatalogue {
  const items = new Map<string, ItemMeta>()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '')
    if (line.trim() === '') continue
    const fields = line.split('|')
    if (fields.length !== FIELDS)
      throw malformed(path, i + 1, `expected ${FIELDS} |-separated fields, got ${fields.length}`, line)
    const id = parseInteger(fields[0]!)
    if (id === undefined) throw malformed(path, i + 1, 'the movie id must be an integer', line)
    const flags = fields.slice(5)
    if (!flags.every((f) => f === '0' || f === '1'))
      throw malformed(path, i + 1, 'the 19 genre flags must each be 0 or 1', line)
    const date = fields[2]!.trim()
    const dated = /^(\d{1,2})-([A-Z][a-z]{2})-(\d{4})$/.exec(date)
    if (date !== '' && !(dated && MONTHS.includes(dated[2]!)))
      throw malformed(path, i + 1, 'the release date must be DD-Mon-YYYY (or D-Mon-YYYY) or empty', date)
    if (items.has(String(id))) throw malformed(path, i + 1, `movie id ${id} appears twice`, line)
    const title = fields[1]!.trim()
    const titleYear = /\((\d{4})\)\s*$/.exec(title)
    const year = dated ? Number(dated[3]) : titleYear ? Number(titleYear[1]) : undefined
    items.set(String(id), {
      categories: MOVIELENS_GENRES.filter((_, g) => flags[g] === '1'),
      titleTokens: titleTokens(title.replace(/\(\d{4}\)\s*$/, '')),
      ...(year === undefined ? {} : { year }),
    })
  }
  return { path, categoryKind: 'genres', items, priceEdges: [], notes: {} }
}
