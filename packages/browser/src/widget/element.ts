/**
 * `<fedrec-recommendations>`: the custom element's lifecycle (attributes, properties, loads and what they
 * show). Its parts: attributes.ts (parsing), suggestions.ts (where a list comes from), card.ts and render.ts
 * (the DOM), keyboard.ts, privacy-panel.ts and strings.ts (every word a shopper sees).
 * @module
 */
import { saveLastList } from '../last-list.ts'
import type { Recommender } from '../recommender.ts'
import type { Suggestion, SuggestionKind } from '../suggest.ts'
import { readAttributes, type WidgetAttributes } from './attributes.ts'
import { renderCard } from './card.ts'
import { moveBetweenItems } from './keyboard.ts'
import { PrivacyPanel } from './privacy-panel.ts'
import { emptyMessage, fillLabel, renderItems, renderShell, type ShellParts, skeletonList } from './render.ts'
import { sharedRecommender } from './shared.ts'
import { headingFor, loadedAnnouncement, TEXT } from './strings.ts'
import { LAST_LIST_KEY, loadSuggestions, savedSuggestions } from './suggestions.ts'
import {
  type ItemClickDetail,
  type RenderItem,
  type ShownItem,
  type StateDetail,
  WIDGET_SOURCE,
  type WidgetState,
} from './types.ts'

// The public types and names live in types.ts; index.ts exports them from here with the element.
export * from './types.ts'

// SSR and worker safety: the module can be imported where there is no DOM; the element is only defined
// where there is one (see define.ts).
const Base = (globalThis.HTMLElement ?? class {}) as typeof HTMLElement

let nextId = 0

/**
 * `<fedrec-recommendations>`: recommendations learned on the shopper's device, as a drop-in element.
 *
 * @example
 * <fedrec-recommendations endpoint="https://agg.example/" heading="Recommended for you" count="8"
 *   item-url="/products/{id}">
 *   <template><a href="/products/{id}"><img src="/img/{id}.jpg" alt="">{id}</a></template>
 * </fedrec-recommendations>
 */
export class FedrecRecommendations extends Base {
  static observedAttributes = [
    'endpoint',
    'db-name',
    'count',
    'heading',
    'mode',
    'item',
    'exclude',
    'leave-out',
    'item-url',
    'shop',
  ]

  #recommenderProp: Recommender | Promise<Recommender> | null = null
  #renderItem: RenderItem | null = null
  #itemLabel: ((itemId: string) => string) | null = null

  /** Use this recommender instead of creating (or sharing) one from `endpoint`. Setting it reloads. */
  get recommender(): Recommender | Promise<Recommender> | null {
    return this.#recommenderProp
  }
  set recommender(value: Recommender | Promise<Recommender> | null) {
    this.#recommenderProp = value
    this.#schedule()
  }

  /** Turns an item into the card to show (a Node), or null to skip an item the shop does not know. */
  get renderItem(): RenderItem | null {
    return this.#renderItem
  }
  set renderItem(value: RenderItem | null) {
    this.#renderItem = value
    this.#schedule()
  }

  /** A human name for an item id, used in "why this?" and labels (default: the id). */
  get itemLabel(): ((itemId: string) => string) | null {
    return this.#itemLabel
  }
  set itemLabel(value: ((itemId: string) => string) | null) {
    this.#itemLabel = value
    this.#schedule()
  }

  #uid = `fr${++nextId}`
  #state: WidgetState = 'loading'
  #generation = 0
  #scheduled = false
  #connected = false
  #items: ShownItem[] = []
  #warned = new Set<string>()
  #privacy: PrivacyPanel
  #els: ShellParts

  constructor() {
    super()
    this.#privacy = new PrivacyPanel({
      uid: this.#uid,
      recommender: () => this.#recommender(),
      announce: (text) => {
        this.#els.live.textContent = text
      },
      warn: (key, message, err) => this.#warn(key, message, err),
      reload: () => void this.#load(),
    })
    this.#els = renderShell(this.attachShadow({ mode: 'open' }), this.#uid, this.#privacy)
    this.addEventListener('click', (e) => this.#onClick(e))
    this.addEventListener('keydown', (e) => moveBetweenItems(this, this.#items, e))
    // The host's own attributes wait for connectedCallback: a constructor may not add any.
    this.#showSkeleton(false)
  }

  /** The state on screen; also reflected as the `state` attribute (style it: `[state="empty"]`). */
  get state(): WidgetState {
    return this.#state
  }

  connectedCallback(): void {
    this.#connected = true
    if (!this.hasAttribute('state')) this.setAttribute('state', this.#state)
    this.#schedule()
  }

  disconnectedCallback(): void {
    this.#connected = false
    this.#generation++
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value) return
    if (name === 'heading') this.#els.heading.textContent = this.#headingFor(this.#state)
    else this.#schedule()
  }

  // Each problem is worth one warning per widget, not one per refresh.
  #warn(key: string, message: string, err: unknown): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    console.warn(`[fedrec] ${message}:`, err)
  }

  /** Loads again, e.g. after a sync brought a new model or the shopper bought something. */
  refresh(): Promise<void> {
    return this.#load()
  }

  // Properties (recommender, renderItem) are usually set right after the element is created or attached:
  // load once, after the current task's synchronous code, instead of once per change.
  #schedule(): void {
    if (this.#scheduled || !this.#connected) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      if (this.#connected) void this.#load()
    })
  }

  get #attrs(): WidgetAttributes {
    return readAttributes((name) => this.getAttribute(name), location.href)
  }

  #label(itemId: string): string {
    try {
      return this.itemLabel?.(itemId) ?? itemId
    } catch {
      return itemId
    }
  }

  #recommender(): Promise<Recommender> {
    if (this.#recommenderProp) return Promise.resolve(this.#recommenderProp)
    const { endpoint, dbName, shop } = this.#attrs
    if (!endpoint) return Promise.reject(new Error('<fedrec-recommendations> needs an endpoint attribute'))
    return sharedRecommender(endpoint, dbName, shop)
  }

  async #load(): Promise<void> {
    const attrs = this.#attrs
    // Neither an endpoint nor a recommender yet (a framework sets properties after mounting): keep the
    // skeleton and wait for one, instead of warning about a misconfiguration that is about to be fixed.
    if (!this.#recommenderProp && !attrs.endpoint) return
    const generation = ++this.#generation
    const { count: k, exclude, mode, dbName } = attrs
    // A repeat page view: the last personal list straight from IndexedDB while the worker and tfjs start.
    if (this.#state === 'loading' && mode === 'for-you') void this.#showLastList(generation, k, exclude)
    const { set, degraded } = await loadSuggestions({
      recommender: () => this.#recommender(),
      mode,
      k,
      exclude,
      leaveOut: attrs.leaveOut,
      itemId: attrs.item,
      endpoint: attrs.endpoint,
      dbName,
      ...(attrs.shop ? { shop: attrs.shop } : {}),
      warn: (key, message, err) => this.#warn(key, message, err),
    })
    if (generation !== this.#generation) return
    const state: WidgetState = set.kind === 'none' ? 'empty' : degraded ? 'degraded' : set.kind
    const cards = await this.#cards(set.items, set.kind, degraded)
    if (generation !== this.#generation) return
    this.#show(state, set.items, cards)
    if (state === 'personal' && mode === 'for-you')
      saveLastList(dbName, LAST_LIST_KEY, set.items, set.modelVersion).catch((err: unknown) =>
        this.#warn('last-list', 'could not keep the list for the next page view', err),
      )
  }

  /** Shows the saved list unless a fresh one (or another load) got there first. */
  async #showLastList(generation: number, k: number, exclude: readonly string[]): Promise<void> {
    const items = await savedSuggestions(this.#attrs.dbName, k, exclude)
    if (!items || generation !== this.#generation || this.#state !== 'loading') return
    if (items.length === 0) return
    const cards = await this.#cards(items, 'personal', false)
    if (generation !== this.#generation || this.#state !== 'loading') return
    this.#show('personal', items, cards)
  }

  #cards(items: readonly Suggestion[], kind: SuggestionKind, degraded: boolean): Promise<(Node | null)[]> {
    const options = {
      host: this,
      itemUrl: this.#attrs.itemUrl,
      renderItem: this.renderItem,
      label: (itemId: string) => this.#label(itemId),
      warn: (key: string, message: string, err: unknown) => this.#warn(key, message, err),
    }
    return Promise.all(items.map((item, position) => renderCard(item, position, kind, degraded, options)))
  }

  #headingFor(state: WidgetState): string {
    const { heading, mode } = this.#attrs
    return headingFor(state, mode, heading)
  }

  #setState(state: WidgetState): void {
    this.#state = state
    this.setAttribute('state', state)
    this.#els.heading.textContent = this.#headingFor(state)
  }

  #showSkeleton(reflect = true): void {
    if (reflect) this.#setState('loading')
    else this.#els.heading.textContent = this.#headingFor('loading')
    this.#els.body.replaceChildren(skeletonList(this.#attrs.count))
    this.#els.label.replaceChildren(TEXT.loading)
  }

  #show(state: WidgetState, items: Suggestion[], cards: (Node | null)[]): void {
    this.#setState(state)
    this.#els.section.setAttribute('aria-busy', 'false')
    const heading = this.#els.heading.textContent ?? ''
    const { list, shown } = renderItems(items, cards, {
      host: this,
      uid: this.#uid,
      state,
      heading,
      label: (itemId) => this.#label(itemId),
    })
    this.#items = shown
    fillLabel(this.#els.label, this.#state, shown.length > 0)
    if (shown.length === 0) {
      this.#els.body.replaceChildren(emptyMessage())
      if (state !== 'empty') this.#setState('empty')
    } else {
      this.#els.body.replaceChildren(list)
    }
    this.#els.live.textContent =
      shown.length > 0 ? loadedAnnouncement(shown.length, this.#els.heading.textContent) : ''
    this.dispatchEvent(
      new CustomEvent<StateDetail>('fedrec-state', {
        detail: { state: this.#state, itemIds: shown.map((i) => i.itemId) },
        bubbles: true,
        composed: true,
      }),
    )
    this.#privacy.refresh()
  }

  #onClick(event: MouseEvent): void {
    const target = event.target
    if (!(target instanceof Element)) return
    const wrap = target.closest<HTMLElement>('[data-fedrec-item]')
    if (!wrap || wrap.parentElement !== this) return
    if (!target.closest('a[href], [data-fedrec-track]')) return
    const itemId = wrap.dataset.fedrecItem!
    const detail: ItemClickDetail = {
      itemId,
      position: Number(wrap.dataset.fedrecPosition),
      state: this.#state,
    }
    this.dispatchEvent(new CustomEvent('fedrec-item-click', { detail, bubbles: true, composed: true }))
    if (this.#state === 'degraded' || this.#state === 'empty') return
    this.#recommender()
      .then((rec) => rec.track({ type: 'click', itemId, source: WIDGET_SOURCE }))
      .catch((err: unknown) => this.#warn('track', 'could not record the click', err))
  }
}
