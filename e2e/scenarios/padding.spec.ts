// QA scenario: browsers really pad their uploads with pseudo-items when the aggregator asks them to.
import { decodeUpdate } from '@fedrec/protocol'
import { expect, expectOnlyProtocolTraffic, type Shopper, tasteProfiles, test } from '../kit/index.ts'

/**
 * Row padding in real browsers (`--pad-ratio`, docs/privacy.md "Row padding"): the aggregator's round config
 * asks every shopper to train and upload pseudo-items too, so the rows of an upload no longer give the
 * history away. These checks fail if the browser silently ignores the setting.
 */

const NEGATIVES = 4 // the aggregator's default --negatives

/** Runs in the page: the pseudo-items the library keeps in its profile (IndexedDB). */
async function storedPseudoItems(): Promise<number[] | null> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('fedrec')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const profile = await new Promise<{ pseudoItems?: number[] } | undefined>((resolve, reject) => {
    const req = db.transaction('profile').objectStore('profile').get('self')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  db.close()
  return profile?.pseudoItems ?? null
}

/** The row ids of each update this shopper posted, decoded from the bytes on the wire. */
function uploadedRows(shopper: Shopper): number[][] {
  return shopper.requestsTo('v1/updates', 'POST').map((t) => {
    const update = decodeUpdate(new Uint8Array(t.request.postDataBuffer()!))
    return [...(update.tensors.find((x) => x.name === 'item_bias')?.rowIds ?? [])]
  })
}

test('with --pad-ratio 2 every upload carries pseudo-items beyond what the history can explain, the same ones every round', async ({
  qa,
  baseURL,
}) => {
  const agg = await qa.aggregator({ minClients: 2, seed: 11, args: ['--pad-ratio', '2'] })
  const info = (await (await fetch(`${agg.url}v1/round`)).json()) as { config: { padRatio?: number } }
  expect(info.config.padRatio).toBe(2)
  const profiles = tasteProfiles({ shoppers: 2, products: qa.products, events: 8, seed: 5 })
  const shoppers = await qa.shoppers(agg, profiles)

  await qa.round(agg, shoppers)
  const firstPseudo = await Promise.all(shoppers.map((s) => s.page.evaluate(storedPseudoItems)))
  await qa.round(agg, shoppers)

  for (const [i, shopper] of shoppers.entries()) {
    const distinct = new Set(profiles[i]!.events.map((e) => e.itemId)).size
    const uploads = uploadedRows(shopper)
    expect(uploads).toHaveLength(2)
    for (const rows of uploads) {
      // Without padding an upload holds at most the history's items and their negatives: distinct × (1 + 4).
      expect(rows.length, `rows of an upload from a ${distinct}-item history`).toBeGreaterThan(
        distinct * (1 + NEGATIVES),
      )
    }
    // The device keeps its pseudo-items (at least ratio × real items) from round to round: drawn anew, a
    // curious aggregator linking one client's rounds would see through them.
    const pseudo = firstPseudo[i]
    expect(pseudo?.length ?? 0).toBeGreaterThanOrEqual(2 * distinct)
    expect(await shopper.page.evaluate(storedPseudoItems)).toEqual(pseudo)
    for (const rows of uploads) for (const row of pseudo ?? []) expect(rows).toContain(row)
    await expectOnlyProtocolTraffic(shopper, {
      shop: baseURL!,
      aggregator: agg.url,
      itemIds: qa.products.map((p) => p.id),
    })
  }
})
