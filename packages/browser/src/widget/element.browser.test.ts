import { afterEach, describe, expect, it, vi } from 'vitest'
import { isFedrecError } from '../errors.ts'
import { seedCache } from '../test-model.ts'
import { defineRecommendationsElement } from './define.ts'
import {
  addEvents,
  afterTest,
  BIAS,
  cleanUp,
  EMBEDDING,
  ENDPOINT,
  ITEMS,
  mount,
  ownRecommender,
  settled,
  shownIds,
} from './test-widget.ts'

// The widget in real Chromium with the real worker, real IndexedDB and real WebGL. No network: the model
// is put in the local cache the way a sync leaves it; the endpoint is a closed port (see test-widget.ts).

defineRecommendationsElement()

afterEach(cleanUp)

describe('<fedrec-recommendations> in a real browser', () => {
  it('shows a skeleton, then popular items for a shopper with no history (cold start), labelled', async () => {
    const dbName = `w-${crypto.randomUUID()}`
    await seedCache(dbName, { itemIds: ITEMS, embedding: EMBEDDING, bias: BIAS })
    const el = mount({ 'db-name': dbName, count: '4', heading: 'Recommended for you' }, (w) => {
      w.recommender = ownRecommender(dbName)
    })
    expect(el.state).toBe('loading')
    expect(el.shadowRoot!.querySelectorAll('[part~="skeleton"]').length).toBeGreaterThan(0)
    expect(el.shadowRoot!.querySelector('section')!.getAttribute('aria-busy')).toBe('true')

    expect(await settled(el)).toBe('popular')
    expect(el.getAttribute('state')).toBe('popular')
    expect(shownIds(el)).toEqual(['sku-0', 'sku-1', 'sku-2', 'sku-3'])
    expect(el.shadowRoot!.querySelector('[part~="badge"]')!.textContent).toBe('Popular')
    expect(el.shadowRoot!.querySelector('[part~="heading"]')!.textContent).toBe('Recommended for you')
    expect(el.shadowRoot!.querySelector('section')!.getAttribute('aria-busy')).toBe('false')
  })

  it('recommends personally once a profile is trained, with "why this?" naming the nearest own item', async () => {
    const dbName = `w-${crypto.randomUUID()}`
    // A taste for the second cluster (axis 2), a history in it, and one purchase that must not come back.
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
    const el = mount({ 'db-name': dbName, count: '3' }, (w) => {
      w.recommender = ownRecommender(dbName)
      w.itemLabel = (id) => `Product ${id}`
    })
    expect(await settled(el)).toBe('personal')
    const ids = shownIds(el)
    expect(ids).toHaveLength(3)
    expect(ids).not.toContain('sku-11')
    for (const id of ids) expect(Number(id.slice(4))).toBeGreaterThanOrEqual(6)

    const why = el.shadowRoot!.querySelector<HTMLButtonElement>('[part~="why-button"]')!
    expect(why.getAttribute('aria-label')).toBe(`Why this? Product ${ids[0]}`)
    why.click()
    expect(why.getAttribute('aria-expanded')).toBe('true')
    const reason = el.shadowRoot!.getElementById(why.getAttribute('aria-controls')!)!
    expect(reason.hidden).toBe(false)
    // The nearest of the shopper's own items (sku-7, sku-11) in embedding space, computed in the worker.
    expect(reason.textContent).toMatch(/Because you looked at Product sku-(7|11)/)
  })

  it('"similar" mode ranks by closeness to the item and says so', async () => {
    const dbName = `w-${crypto.randomUUID()}`
    await seedCache(dbName, { itemIds: ITEMS, embedding: EMBEDDING, bias: BIAS, version: 3 })
    const el = mount(
      { 'db-name': dbName, mode: 'similar', item: 'sku-8', count: '3', heading: 'Because you viewed sku-8' },
      (w) => {
        w.recommender = ownRecommender(dbName)
      },
    )
    expect(await settled(el)).toBe('similar')
    const ids = shownIds(el)
    expect(ids).not.toContain('sku-8')
    // sku-7 and sku-9 are the two nearest to sku-8 (its neighbours in the same cluster).
    expect(new Set(ids.slice(0, 2))).toEqual(new Set(['sku-7', 'sku-9']))
    for (const id of ids) expect(Number(id.slice(4))).toBeGreaterThanOrEqual(6)
    expect(el.shadowRoot!.querySelector('[part~="heading"]')!.textContent).toBe('Because you viewed sku-8')
  })

  it('a model nobody has trained (every bias 0, version 0) shows the empty state, not fake popularity', async () => {
    const dbName = `w-${crypto.randomUUID()}`
    await seedCache(dbName, {
      itemIds: ITEMS,
      embedding: EMBEDDING,
      bias: new Float32Array(ITEMS.length),
      version: 0,
    })
    const el = mount({ 'db-name': dbName, mode: 'similar', item: 'sku-1' }, (w) => {
      w.recommender = ownRecommender(dbName)
    })
    expect(await settled(el)).toBe('empty')
    expect(shownIds(el)).toEqual([])
    expect(el.shadowRoot!.querySelector('[part~="empty"]')!.textContent).toMatch(/Browse a few products/)
  })

  it('tracks a click on a recommended item, marked as coming from the widget', async () => {
    const dbName = `w-${crypto.randomUUID()}`
    await seedCache(dbName, { itemIds: ITEMS, embedding: EMBEDDING, bias: BIAS })
    const rec = await ownRecommender(dbName)
    const clicks: string[] = []
    const el = mount({ 'db-name': dbName, count: '2', 'item-url': '#/product/{id}' }, (w) => {
      w.recommender = rec
      w.addEventListener('fedrec-item-click', (e) => clicks.push((e as CustomEvent).detail.itemId))
    })
    await settled(el)
    const link = el.querySelector<HTMLAnchorElement>('[data-fedrec-item="sku-1"] a')!
    expect(link.getAttribute('href')).toBe('#/product/sku-1')
    link.click()
    expect(clicks).toEqual(['sku-1'])
    await expect
      .poll(async () => (await rec.history()).map((e) => [e.type, e.itemId, e.source]))
      .toEqual([['click', 'sku-1', 'fedrec-widget']])
    history.replaceState(null, '', location.pathname + location.search)
  })

  it('renders cards from a <template>, and arrow keys move between items', async () => {
    const dbName = `w-${crypto.randomUUID()}`
    await seedCache(dbName, { itemIds: ITEMS, embedding: EMBEDDING, bias: BIAS })
    const el = document.createElement('fedrec-recommendations')
    el.setAttribute('db-name', dbName)
    el.setAttribute('count', '3')
    el.innerHTML = '<template><a class="card" href="/p/{id}">Item {id}</a></template>'
    el.recommender = ownRecommender(dbName)
    document.body.append(el)
    await settled(el)
    const links = [...el.querySelectorAll<HTMLAnchorElement>('[data-fedrec-item] a.card')]
    expect(links.map((a) => [a.getAttribute('href'), a.textContent])).toEqual([
      ['/p/sku-0', 'Item sku-0'],
      ['/p/sku-1', 'Item sku-1'],
      ['/p/sku-2', 'Item sku-2'],
    ])
    links[0]!.focus()
    links[0]!.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true, composed: true }),
    )
    expect(document.activeElement).toBe(links[1])
    links[1]!.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true, composed: true }))
    expect(document.activeElement).toBe(links[2])
  })

  it('degrades to popular items from the cached model when Workers cannot start: a warning, no exception', async () => {
    const dbName = `w-${crypto.randomUUID()}`
    await seedCache(dbName, { itemIds: ITEMS, embedding: EMBEDDING, bias: BIAS })
    const RealWorker = globalThis.Worker
    globalThis.Worker = class {
      constructor() {
        throw new Error('workers are disabled here')
      }
    } as unknown as typeof Worker
    afterTest(() => {
      globalThis.Worker = RealWorker
    })
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    afterTest(() => warn.mockRestore())
    const errors: unknown[] = []
    const onError = (e: ErrorEvent | PromiseRejectionEvent) => errors.push(e)
    window.addEventListener('error', onError)
    window.addEventListener('unhandledrejection', onError)
    afterTest(() => {
      window.removeEventListener('error', onError)
      window.removeEventListener('unhandledrejection', onError)
    })

    const el = mount({ endpoint: ENDPOINT, 'db-name': dbName, count: '3' })
    expect(await settled(el)).toBe('degraded')
    expect(shownIds(el)).toEqual(['sku-0', 'sku-1', 'sku-2'])
    expect(warn).toHaveBeenCalled()
    expect(String(warn.mock.calls[0]![0])).toMatch(/degraded mode/)
    expect(errors).toEqual([])
    // The privacy panel says honestly that nothing is learned here.
    el.shadowRoot!.querySelector<HTMLButtonElement>('[part~="privacy-button"]')!.click()
    await expect
      .poll(() => el.shadowRoot!.querySelector('[part~="privacy-panel"]')!.textContent)
      .toMatch(/not available/)
  })

  it('with no IndexedDB and no reachable model it shows the empty state and warns, without throwing', async () => {
    const descriptor = Object.getOwnPropertyDescriptor(window, 'indexedDB')
    Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true })
    afterTest(() => {
      if (descriptor) Object.defineProperty(window, 'indexedDB', descriptor)
      else Reflect.deleteProperty(window, 'indexedDB')
    })
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    afterTest(() => warn.mockRestore())
    const el = mount({ endpoint: ENDPOINT, 'db-name': `w-${crypto.randomUUID()}` })
    expect(await settled(el)).toBe('empty')
    const messages = warn.mock.calls.map((c) => String(c[0]))
    expect(messages.some((m) => /degraded mode/.test(m))).toBe(true)
    expect(messages.some((m) => /no model is reachable/.test(m))).toBe(true)
  })

  it('privacy panel: counts what is stored, pauses learning (remembered) and erases everything', async () => {
    const dbName = `w-${crypto.randomUUID()}`
    await seedCache(dbName, {
      itemIds: ITEMS,
      embedding: EMBEDDING,
      bias: BIAS,
      userVector: Float32Array.of(1, 0, 0, 0),
    })
    await addEvents(dbName, [
      { type: 'click', itemId: 'sku-3' },
      { type: 'add_to_cart', itemId: 'sku-3' },
      { type: 'click', itemId: 'sku-4' },
    ])
    const rec = await ownRecommender(dbName)
    const el = mount({ 'db-name': dbName }, (w) => {
      w.recommender = rec
    })
    expect(await settled(el)).toBe('personal')
    const root = el.shadowRoot!
    const open = root.querySelector<HTMLButtonElement>('[part~="privacy-button"]')!
    open.click()
    expect(open.getAttribute('aria-expanded')).toBe('true')
    const panel = root.querySelector<HTMLElement>('[part~="privacy-panel"]')!
    await expect.poll(() => panel.textContent).toMatch(/3 interactions with 2 products/)
    expect(panel.textContent).toMatch(/taste profile trained/)
    expect(panel.textContent).toMatch(/What leaves this device/)

    root.querySelector<HTMLButtonElement>('[part~="pause-button"]')!.click()
    await expect
      .poll(() => root.querySelector('[part~="pause-button"]')!.getAttribute('aria-pressed'))
      .toBe('true')
    await rec.track({ type: 'click', itemId: 'sku-5' })
    expect((await rec.history()).length).toBe(3)
    const syncErr = await rec.sync().catch((e: unknown) => e)
    expect(isFedrecError(syncErr) && syncErr.code).toBe('paused')
    // Remembered: a new recommender on the same database starts paused.
    const again = await ownRecommender(dbName)
    expect((await again.localData()).paused).toBe(true)

    root.querySelector<HTMLButtonElement>('[part~="erase-button"]')!.click()
    await expect.poll(() => root.querySelector('[part~="erase-confirm"]')).not.toBeNull()
    root.querySelector<HTMLButtonElement>('[part~="erase-confirm"]')!.click()
    await expect.poll(() => panel.textContent).toMatch(/0 interactions with 0 products/)
    expect(await rec.history()).toEqual([])
    // Erased, but still paused: the switch is the shopper's wish, not a trace of shopping.
    expect((await rec.localData()).paused).toBe(true)
  })
})
