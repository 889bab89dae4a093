import { afterEach, describe, expect, it } from 'vitest'
import { openFedrecDB } from '../db.ts'
import { readLastList } from '../last-list.ts'
import { createRecommender, type Recommender } from '../recommender.ts'
import { seedCache } from '../test-model.ts'
import { defineRecommendationsElement } from './define.ts'
import type { FedrecRecommendations } from './element.ts'

// The fast repeat page view: the widget keeps its last personal list in IndexedDB and shows it on the next
// page before the recommender (worker, tfjs) has started. Real Chromium, real worker and IndexedDB.

defineRecommendationsElement()

const ENDPOINT = 'http://127.0.0.1:9/'
const ITEMS = Array.from({ length: 12 }, (_, i) => `sku-${i}`)
const DIM = 4
// Items 0–5 point along axis 0, items 6–11 along axis 2.
const EMBEDDING = Float32Array.from({ length: ITEMS.length * DIM }, (_, i) => {
  const row = Math.floor(i / DIM)
  const col = i % DIM
  const axis = row < 6 ? 0 : 2
  return col === axis ? 1 : col === axis + 1 ? (row % 6) / 20 : 0
})

const recommenders: Promise<Recommender>[] = []
afterEach(async () => {
  for (const rec of recommenders.splice(0)) (await rec).close()
  document.body.replaceChildren()
})

function mount(dbName: string, recommender: Promise<Recommender>, exclude?: string): FedrecRecommendations {
  const el = document.createElement('fedrec-recommendations')
  el.setAttribute('db-name', dbName)
  el.setAttribute('count', '3')
  if (exclude) el.setAttribute('exclude', exclude)
  el.recommender = recommender
  document.body.append(el)
  return el
}

const shownIds = (el: FedrecRecommendations): string[] =>
  [...el.querySelectorAll<HTMLElement>(':scope > [data-fedrec-item]')].map((n) => n.dataset.fedrecItem!)

/** A shopper with a trained taste for the second cluster who bought sku-11; returns the personal list. */
async function firstVisit(dbName: string): Promise<{ ids: string[]; rec: Promise<Recommender> }> {
  await seedCache(dbName, {
    itemIds: ITEMS,
    embedding: EMBEDDING,
    bias: new Float32Array(ITEMS.length),
    version: 2,
    userVector: Float32Array.of(0, 0, 1, 0.2),
  })
  const db = await openFedrecDB(dbName)
  await db.add('events', { type: 'click', itemId: 'sku-7', ts: Date.now() })
  await db.add('events', { type: 'purchase', itemId: 'sku-11', ts: Date.now() + 1 })
  db.close()
  const rec = createRecommender({ endpoint: ENDPOINT, dbName, retry: { retries: 0, baseDelayMs: 1 } })
  recommenders.push(rec)
  const el = mount(dbName, rec)
  await expect.poll(() => el.state).toBe('personal')
  const ids = shownIds(el)
  // Kept after it was shown, without holding the page up.
  await expect
    .poll(async () => (await readLastList(dbName, 'for-you'))?.items.map((i) => i.itemId))
    .toEqual(ids)
  el.remove()
  return { ids, rec }
}

describe('the last personal list (repeat page views)', () => {
  it('is shown from IndexedDB before the recommender has started, without excluded items', async () => {
    const dbName = `last-${crypto.randomUUID()}`
    const { ids } = await firstVisit(dbName)
    expect(ids).toHaveLength(3)
    expect(ids).not.toContain('sku-11')

    // The next page: the recommender is still starting (here: never), yet the shopper sees their list.
    const starting = new Promise<Recommender>(() => undefined)
    const again = mount(dbName, starting)
    await expect.poll(() => again.state).toBe('personal')
    expect(shownIds(again)).toEqual(ids)
    again.remove()

    // A page that excludes an item (its own product, the cart) leaves it out of the saved list too.
    const product = mount(dbName, starting, ids[0])
    await expect.poll(() => product.state).toBe('personal')
    expect(shownIds(product)).toEqual(ids.slice(1))
  })

  it('is replaced by the fresh list once the recommender answers, and erased by forget()', async () => {
    const dbName = `last-${crypto.randomUUID()}`
    const { ids, rec } = await firstVisit(dbName)
    // The recommender answers only when the test says so: as if tfjs were still starting.
    let answer = (): void => undefined
    const started = new Promise<void>((resolve) => {
      answer = resolve
    })
    const slow = rec.then(
      (r): Recommender => ({
        ...r,
        suggest: async (request) => {
          await started
          return r.suggest(request)
        },
      }),
    )
    const fresh = mount(dbName, slow)
    const states: string[] = []
    fresh.addEventListener('fedrec-state', (e) =>
      states.push((e as CustomEvent<{ state: string }>).detail.state),
    )
    await expect.poll(() => states).toEqual(['personal'])
    expect(shownIds(fresh)).toEqual(ids)
    // Then the recommender's own list replaces it (the same here: nothing changed in between).
    answer()
    await expect.poll(() => states).toEqual(['personal', 'personal'])
    expect(shownIds(fresh)).toEqual(ids)

    await (await rec).forget()
    expect(await readLastList(dbName, 'for-you')).toBeNull()
  })
})
