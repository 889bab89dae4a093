import { afterEach, describe, expect, it } from 'vitest'
import { openFedrecDB } from './db.ts'
import { isFedrecError } from './errors.ts'
import { createRecommender, type Recommender } from './recommender.ts'
import { seedCache } from './test-model.ts'

// Real Chromium, real IndexedDB, the real worker on real WebGL. The network is not needed: a model is put in
// the local cache the way a sync leaves it, and nothing here calls sync().

const ITEMS = ['a', 'b', 'c', 'd', 'e']
const DIM = 4

async function seedModel(dbName: string): Promise<void> {
  await seedCache(dbName, {
    itemIds: ITEMS,
    embedding: new Float32Array(ITEMS.length * DIM),
    bias: Float32Array.of(0.5, 0.4, 0.3, 0.2, 0.1), // 'a' most popular … 'e' least
  })
}

const open: Recommender[] = []
async function make(dbName: string): Promise<Recommender> {
  const rec = await createRecommender({
    endpoint: 'http://127.0.0.1:9/',
    dbName,
    retry: { retries: 0, baseDelayMs: 1 },
  })
  open.push(rec)
  return rec
}

afterEach(() => {
  for (const rec of open.splice(0)) rec.close()
})

describe('createRecommender in a real browser', () => {
  it('keeps history in IndexedDB and recommends from the cached model, without what was bought', async () => {
    const dbName = `t-${crypto.randomUUID()}`
    await seedModel(dbName)
    const rec = await make(dbName)
    await rec.track({ type: 'click', itemId: 'c' })
    await rec.track({ type: 'purchase', itemId: 'a' })
    const history = await rec.history()
    expect(history.map((e) => [e.type, e.itemId])).toEqual([
      ['click', 'c'],
      ['purchase', 'a'],
    ])
    expect(history.every((e) => typeof e.ts === 'number')).toBe(true)
    // No user vector yet: ranked by item bias (popularity), bought item 'a' left out.
    const items = await rec.recommend({ k: 3 })
    expect(items.map((i) => i.itemId)).toEqual(['b', 'c', 'd'])
    expect(items[0]!.score).toBeCloseTo(0.4, 5)
  })

  it('recommends from the recent items: the newest view leads, and leaveOut says what is not shown again', async () => {
    const dbName = `t-${crypto.randomUUID()}`
    // a and c point one way, b and d another, e a third; no popularity at all.
    await seedCache(dbName, {
      itemIds: ITEMS,
      embedding: Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0.9, 0, 0, 0, 0, 0.9, 0, 0, 0, 0, 1, 0),
      bias: new Float32Array(ITEMS.length),
    })
    const rec = await make(dbName)
    const ids = async (options: Parameters<Recommender['recommend']>[0]) =>
      (await rec.recommend(options)).map((i) => i.itemId)
    await rec.track({ type: 'click', itemId: 'a' })
    // State = e_a. Viewed items stay by default ('carted' leaves out only carts and purchases).
    expect(await ids({ k: 2 })).toEqual(['a', 'c'])
    expect(await ids({ k: 2, leaveOut: 'seen' })).toEqual(['c', 'b'])
    await rec.track({ type: 'click', itemId: 'b' })
    // State = (0.7 e_a + e_b) / 1.7: the newest view, b, leads; d (like b) before c (like a).
    const scored = await rec.recommend({ k: 2, leaveOut: 'seen' })
    expect(scored.map((i) => i.itemId)).toEqual(['d', 'c'])
    expect(scored[0]!.score).toBeCloseTo(0.9 / 1.7, 5)
    expect(scored[1]!.score).toBeCloseTo((0.7 * 0.9) / 1.7, 5)
    await rec.track({ type: 'add_to_cart', itemId: 'd' })
    expect(await ids({ k: 5 })).not.toContain('d')
    expect(await ids({ k: 5, leaveOut: 'bought' })).toContain('d')
    await expect(rec.recommend({ k: 2, leaveOut: 'nothing' as never })).rejects.toMatchObject({
      name: 'FedrecError',
      code: 'bad_option',
    })
  })

  it('trains on WebGL in the worker', async () => {
    const rec = await make(`t-${crypto.randomUUID()}`)
    expect(await rec.backend()).toBe('webgl')
  })

  it('refuses malformed events with a clear error and stores nothing', async () => {
    const rec = await make(`t-${crypto.randomUUID()}`)
    const bad: unknown[] = [
      null,
      { type: 'view', itemId: 'a' },
      { type: 'click', itemId: '' },
      { type: 'click', itemId: 7 },
    ]
    for (const event of bad) {
      const err = await rec.track(event as never).catch((e: unknown) => e)
      expect(isFedrecError(err) && err.code).toBe('bad_event')
    }
    expect(await rec.history()).toEqual([])
  })

  it('forget() erases events, profile and cached model', async () => {
    const dbName = `t-${crypto.randomUUID()}`
    await seedModel(dbName)
    const rec = await make(dbName)
    await rec.track({ type: 'add_to_cart', itemId: 'b' })
    await rec.recommend({ k: 2 })
    await rec.forget()
    expect(await rec.history()).toEqual([])
    const db = await openFedrecDB(dbName)
    expect(await db.count('model')).toBe(0)
    expect(await db.count('profile')).toBe(0)
    expect(await db.count('events')).toBe(0)
    db.close()
  })

  it('sync() against an unreachable aggregator fails with a network error and loses nothing', async () => {
    const dbName = `t-${crypto.randomUUID()}`
    const rec = await make(dbName)
    await rec.track({ type: 'click', itemId: 'a' })
    const err = await rec.sync().catch((e: unknown) => e)
    expect(isFedrecError(err) && err.code).toBe('network')
    expect((await rec.history()).length).toBe(1)
  })

  it('a closed recommender says so', async () => {
    const rec = await make(`t-${crypto.randomUUID()}`)
    rec.close()
    const err = await rec.track({ type: 'click', itemId: 'a' }).catch((e: unknown) => e)
    expect(isFedrecError(err) && err.code).toBe('closed')
  })

  it('a worker that dies at start fails createRecommender with a clear error instead of hanging', async () => {
    const dbName = `t-${crypto.randomUUID()}`
    const script = URL.createObjectURL(
      new Blob(['throw new Error("no worker here")'], { type: 'text/javascript' }),
    )
    const worker = new Worker(script)
    const err = await createRecommender({ endpoint: 'http://127.0.0.1:9/', dbName, worker }).catch(
      (e: unknown) => e,
    )
    URL.revokeObjectURL(script)
    expect(isFedrecError(err) && err.code).toBe('internal')
    expect(String((err as Error).message)).toMatch(/worker failed to start/)
    // Its database connection was closed: deleting the database is not blocked by it.
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(dbName)
      req.onsuccess = () => resolve()
      req.onblocked = () => reject(new Error('a connection was left open'))
      req.onerror = () => reject(req.error)
    })
  })

  it('notices a worker that fails while createRecommender is still reading the database', async () => {
    const dbName = `t-${crypto.randomUUID()}`
    // Another connection keeps a write transaction on the settings open, so createRecommender's read of its
    // pause switch waits; the worker fails meanwhile, before anything talks to it.
    const holder = await openFedrecDB(dbName)
    const tx = holder.transaction('settings', 'readwrite')
    let hold = true
    const spinning = (async () => {
      while (hold) await tx.store.get('learning')
    })()
    const script = URL.createObjectURL(
      new Blob(['throw new Error("no worker here")'], { type: 'text/javascript' }),
    )
    const worker = new Worker(script)
    const failed = new Promise((resolve) => worker.addEventListener('error', resolve, { once: true }))
    const pending = createRecommender({ endpoint: 'http://127.0.0.1:9/', dbName, worker }).catch(
      (e: unknown) => e,
    )
    await failed
    hold = false
    await spinning
    await tx.done
    holder.close()
    const err = await pending
    URL.revokeObjectURL(script)
    expect(isFedrecError(err) && err.code).toBe('internal')
    expect(String((err as Error).message)).toMatch(/worker failed to start/)
  })

  it('a pause set by another tab (another recommender on the same database) holds at once', async () => {
    const dbName = `t-${crypto.randomUUID()}`
    await seedModel(dbName)
    const tabA = await make(dbName)
    const tabB = await make(dbName)
    // Not a boolean: a clear error, and the switch stays as it was.
    const bad = await tabA.setPaused('yes' as unknown as boolean).catch((e: unknown) => e)
    expect(isFedrecError(bad) && bad.code).toBe('bad_option')
    await tabA.setPaused(true)
    await tabB.track({ type: 'click', itemId: 'b' })
    expect(await tabB.history()).toEqual([])
    const err = await tabB.sync().catch((e: unknown) => e)
    expect(isFedrecError(err) && err.code).toBe('paused')
    expect((await tabB.localData()).paused).toBe(true)
    await tabA.setPaused(false)
    await tabB.track({ type: 'click', itemId: 'b' })
    expect((await tabB.history()).map((e) => e.itemId)).toEqual(['b'])
  })
})
