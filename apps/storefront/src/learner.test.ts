import { FedrecError, type Recommender, type SyncReport } from '@fedrec/browser'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLearner, describeSyncError } from './learner.ts'
import { MemoryStorage } from './memory-storage.ts'
import type { StorefrontSettings } from './settings.ts'

const REPORT: SyncReport = {
  round: 3,
  modelVersion: 4,
  backend: 'wasm',
  samples: 10,
  loss: 0.5,
  bytesUp: 100,
  bytesDown: 200,
  ms: 12,
  uploaded: true,
}

function fakeRecommender(overrides: Partial<Recommender> = {}) {
  const calls = { track: 0, sync: 0 }
  const rec: Recommender = {
    track: async () => {
      calls.track++
    },
    sync: async () => {
      calls.sync++
      return REPORT
    },
    recommend: async () => [{ itemId: 'sku-a', score: 1 }],
    history: async () => [],
    forget: async () => undefined,
    backend: async () => 'wasm',
    suggest: async () => ({ kind: 'none', modelVersion: 0, items: [] }),
    rerank: async (itemIds) => ({
      kind: 'popular',
      context: 'list',
      modelVersion: 4,
      items: [...itemIds].reverse().map((itemId, i) => ({ itemId, score: -i, reason: 'popular' })),
      leftOut: [],
    }),
    localData: async () => ({ events: 0, items: 0, profile: false, model: null, paused: false }),
    setPaused: async () => undefined,
    close: () => undefined,
    ...overrides,
  }
  return { rec, calls }
}

const settings = (over: Partial<StorefrontSettings> = {}): StorefrontSettings => ({
  endpoint: 'http://agg.test/',
  syncEverySeconds: 0,
  syncAfterEvents: 3,
  catalogueUrl: 'http://shop.test/catalogue.json',
  ...over,
})

const flush = () => new Promise((resolve) => setTimeout(resolve, 60))

afterEach(() => {
  vi.restoreAllMocks()
})

describe('createLearner', () => {
  it("hands the page's shop setting to the library, and none when there is none", async () => {
    const options: unknown[] = []
    const create = async (o: unknown) => {
      options.push(o)
      return fakeRecommender().rec
    }
    await createLearner(settings({ shop: 'fjord' }), { create }).ready
    await createLearner(settings(), { create }).ready
    expect(options).toEqual([
      { endpoint: 'http://agg.test/', shop: 'fjord' },
      { endpoint: 'http://agg.test/' },
    ])
  })

  it('syncs in the background after every `syncAfterEvents` events and reports the round', async () => {
    const { rec, calls } = fakeRecommender()
    const learner = createLearner(settings(), { create: async () => rec })
    const changes: string[] = []
    learner.subscribe((c) => changes.push(c))
    await learner.ready
    learner.track({ type: 'click', itemId: 'sku-a' })
    learner.track({ type: 'click', itemId: 'sku-b' })
    await flush()
    expect(calls.sync).toBe(0)
    learner.track({ type: 'add_to_cart', itemId: 'sku-b' })
    await flush()
    expect(calls).toEqual({ track: 3, sync: 1 })
    expect(learner.status()).toMatchObject({
      phase: 'ready',
      syncing: false,
      lastReport: REPORT,
      problem: null,
    })
    expect(changes).toContain('recommendations')
  })

  it('turns a failed round into a status line and a warning, never a rejection', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { rec } = fakeRecommender({
      sync: async () => {
        throw new FedrecError('network', 'aggregator unreachable at http://agg.test/v1/round')
      },
    })
    const learner = createLearner(settings({ syncAfterEvents: 1 }), { create: async () => rec })
    await learner.ready
    learner.track({ type: 'purchase', itemId: 'sku-a' })
    await flush()
    expect(learner.status().problem).toBe('Learning paused: aggregator unreachable')
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('records nothing while paused, and remembers the switch', async () => {
    const fakeStorage = new MemoryStorage()
    const { rec, calls } = fakeRecommender()
    const learner = createLearner(settings(), { create: async () => rec, storage: fakeStorage })
    await learner.ready
    learner.setPaused(true)
    learner.track({ type: 'click', itemId: 'sku-a' })
    await flush()
    expect(calls.track).toBe(0)
    expect(createLearner(settings(), { create: async () => rec, storage: fakeStorage }).status().paused).toBe(
      true,
    )
  })

  it('answers [] when the recommender cannot start, and the QA hook sees the rejection', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const learner = createLearner(settings(), {
      create: async () => {
        throw new FedrecError('storage', 'cannot open IndexedDB "fedrec"')
      },
    })
    await expect(learner.ready).rejects.toThrow(/IndexedDB/)
    expect(await learner.recommend(10)).toEqual([])
    expect(learner.status().phase).toBe('unavailable')
  })

  it('reranks through the recommender, and answers null while paused or when it fails (warned once)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { rec } = fakeRecommender()
    const learner = createLearner(settings(), { create: async () => rec })
    await learner.ready
    const result = await learner.rerank(['sku-a', 'sku-b'], { context: 'search' })
    expect(result?.items.map((i) => i.itemId)).toEqual(['sku-b', 'sku-a'])
    learner.setPaused(true)
    expect(await learner.rerank(['sku-a', 'sku-b'], { context: 'search' })).toBeNull()

    const failing = fakeRecommender({
      rerank: async () => {
        throw new FedrecError('bad_option', 'rerank() needs each item id once; "a" is at 0 and at 1')
      },
    })
    const broken = createLearner(settings(), { create: async () => failing.rec })
    await broken.ready
    expect(await broken.rerank(['a', 'a'], {})).toBeNull()
    expect(await broken.rerank(['a', 'a'], {})).toBeNull()
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('routes QA calls through the learner: sync() updates the status', async () => {
    const { rec } = fakeRecommender()
    const learner = createLearner(settings(), { create: async () => rec })
    await learner.ready
    await expect(learner.recommender.sync()).resolves.toEqual(REPORT)
    expect(learner.status().lastReport).toEqual(REPORT)
  })
})

describe('describeSyncError', () => {
  it('keeps unknown errors generic', () => {
    expect(describeSyncError(new Error('boom'))).toBe('Learning paused: sync failed')
    expect(describeSyncError(new FedrecError('no_backend', 'none'))).toMatch(/can't run the model/)
  })

  it('tells a failing aggregator and a damaged model apart from an unreachable one', () => {
    expect(describeSyncError(new FedrecError('network', 'down'))).toMatch(/aggregator unreachable/)
    expect(describeSyncError(new FedrecError('server_error', '500'))).toMatch(/aggregator is having trouble/)
    expect(describeSyncError(new FedrecError('corrupt_model', 'crc'))).toMatch(/model arrived damaged/)
  })
})
