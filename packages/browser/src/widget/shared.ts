// Lets every widget on a page share one recommender instead of each starting a worker.
import { createRecommender, type Recommender } from '../recommender.ts'

const shared = new Map<string, Promise<Recommender>>()

/**
 * One recommender (one worker, one database connection) per endpoint, database and shop for all the widgets
 * of a page that were not handed one. A failed start is not kept, so a later widget may try again.
 */
export function sharedRecommender(endpoint: string, dbName: string, shop?: string): Promise<Recommender> {
  const key = `${endpoint}|${dbName}|${shop ?? ''}`
  let rec = shared.get(key)
  if (!rec) {
    rec = createRecommender({ endpoint, dbName, ...(shop === undefined ? {} : { shop }) })
    shared.set(key, rec)
    rec.catch(() => shared.delete(key))
  }
  return rec
}
