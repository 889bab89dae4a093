import { afterEach, describe, expect, it } from 'vitest'
import { readLastList } from '../last-list.ts'
import type { Recommender } from '../recommender.ts'
import { seedCache } from '../test-model.ts'
import { defineRecommendationsElement } from './define.ts'
import type { FedrecRecommendations } from './element.ts'
import { addEvents, cleanUp, EMBEDDING, ITEMS, mount, ownRecommender, shownIds } from './test-widget.ts'

// The fast repeat page view: the widget keeps its last personal list in IndexedDB and shows it on the next
// page before the recommender (worker, tfjs) has started. Real Chromium, real worker and IndexedDB.

defineRecommendationsElement()

afterEach(cleanUp)

/** Three items for-you, given this recommender, leaving out `exclude`. */
function mountList(
  dbName: string,
  recommender: Promise<Recommender>,
  exclude?: string,
): FedrecRecommendations {
  return mount({ 'db-name': dbName, count: '3', ...(exclude ? { exclude } : {}) }, (el) => {
    el.recommender = recommender
  })
}

/** A shopper with a trained taste for the second cluster who bought sku-11; returns the personal list. */
async function firstVisit(dbName: string): Promise<{ ids: string[]; rec: Promise<Recommender> }> {
  await seedCache(dbName, {
    itemIds: ITEMS,
    embedding: EMBEDDING,
    bias: new Float32Array(ITEMS.length),
    version: 2,
    userVector: Float32Array.of(0, 0, 1, 0.2),
  })
  await addEvents(dbName, [
    { type: 'click', itemId: 'sku-7' },
    { type: 'purchase', itemId: 'sku-11' },
  ])
  const rec = ownRecommender(dbName)
  const el = mountList(dbName, rec)
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
    const again = mountList(dbName, starting)
    await expect.poll(() => again.state).toBe('personal')
    expect(shownIds(again)).toEqual(ids)
    again.remove()

    // A page that excludes an item (its own product, the cart) leaves it out of the saved list too.
    const product = mountList(dbName, starting, ids[0])
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
    const fresh = mountList(dbName, slow)
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
