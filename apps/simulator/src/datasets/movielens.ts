// The MovieLens 100k loader: the standard data set of the federated-recommendation papers, for comparison.
import type { LoadedDataset } from './interaction.ts'
import { malformed, parseInteger } from './line-error.ts'

/**
 * MovieLens `u.data`: tab-separated `user item rating timestamp` (Unix seconds), no header. Every rating is
 * an interaction (the implicit-feedback reading of NCF and the federated papers); the rating is ignored.
 * @throws DatasetError naming `path` and the line of the first malformed line
 * @example parseMovieLens('1\t10\t4\t881250949\n', 'u.data').interactions[0] // { user: '1', item: '10', type: 'click', timestamp: 881250949000 }
 */
export function parseMovieLens(text: string, path: string): LoadedDataset {
  const interactions: LoadedDataset['interactions'] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '')
    if (line.trim() === '') continue
    const fields = line.split('\t')
    if (fields.length !== 4) {
      throw malformed(path, i + 1, `expected 4 tab-separated fields, got ${fields.length}`, line)
    }
    const [user, item, rating, timestamp] = fields.map(parseInteger)
    if (user === undefined || item === undefined || rating === undefined || timestamp === undefined) {
      throw malformed(path, i + 1, 'user, item, rating and timestamp must be integers', line)
    }
    interactions.push({ user: String(user), item: String(item), type: 'click', timestamp: timestamp * 1000 })
  }
  return { format: 'movielens', path, interactions, skipped: {} }
}
