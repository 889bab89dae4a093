import { isFedrecError } from '../errors.ts'
import { isLeaveOut, type LeaveOut } from '../events.ts'
import { type LastList, readLastList, saveLastList } from '../last-list.ts'
import type { LocalData, Recommender } from '../recommender.ts'
import type { Suggestion, SuggestionKind, SuggestionSet } from '../suggest.ts'
import { degradedPopular } from './fallback.ts'
import { sharedRecommender } from './shared.ts'
import { WIDGET_CSS } from './styles.ts'

/** The tag name the element is registered under. */
export const WIDGET_TAG = 'fedrec-recommendations'

/**
 * What the widget shows:
 * - `loading`: the skeleton, before the first answer;
 * - `personal` / `similar`: ranked by this shopper's profile / by closeness to the `item`;
 * - `popular`: cold start — a shopper with no trained profile gets the global model's popular items;
 * - `degraded`: this browser cannot run the recommender (no Worker, IndexedDB or tfjs backend): popular
 *   items computed on the page, with a console warning;
 * - `empty`: nothing honest to show yet (a model nobody has trained: every bias is 0) or no model at all.
 */
export type WidgetState = 'loading' | Exclude<SuggestionKind, 'none'> | 'degraded' | 'empty'

/** One item as the shop's renderer sees it. */
export interface WidgetItem {
  itemId: string
  /** 0-based place in the list. */
  position: number
  kind: SuggestionKind | 'degraded'
  /** The shopper's own item this one is closest to, when known. */
  because: Suggestion['because']
  /** `item-url` with `{id}` filled in, or null without one. */
  url: string | null
}

/** `detail` of the `fedrec-item-click` event. */
export interface ItemClickDetail {
  itemId: string
  position: number
  state: WidgetState
}

/** `detail` of the `fedrec-state` event. */
export interface StateDetail {
  state: WidgetState
  itemIds: string[]
}

/** The source recorded with clicks the widget tracks. */
export const WIDGET_SOURCE = 'fedrec-widget'

const DEFAULT_COUNT = 8
const DEFAULT_ENDPOINT_DB = 'fedrec'
/** The saved list of the for-you mode (see last-list.ts). */
const LAST_LIST_KEY = 'for-you'

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
  ]

  #recommenderProp: Recommender | Promise<Recommender> | null = null
  #renderItem: ((item: WidgetItem) => Node | null | Promise<Node | null>) | null = null
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
  get renderItem(): ((item: WidgetItem) => Node | null | Promise<Node | null>) | null {
    return this.#renderItem
  }
  set renderItem(value: ((item: WidgetItem) => Node | null | Promise<Node | null>) | null) {
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

  #root: ShadowRoot
  #uid = `fr${++nextId}`
  #state: WidgetState = 'loading'
  #generation = 0
  #scheduled = false
  #connected = false
  #items: { itemId: string; position: number }[] = []
  #warned = new Set<string>()
  #privacyOpen = false
  #confirmErase = false
  #els: {
    section: HTMLElement
    heading: HTMLElement
    label: HTMLElement
    privacyButton: HTMLButtonElement
    privacyPanel: HTMLElement
    body: HTMLElement
    live: HTMLElement
  }

  constructor() {
    super()
    this.#root = this.attachShadow({ mode: 'open' })
    const style = document.createElement('style')
    style.textContent = WIDGET_CSS
    const section = el('section', {
      part: 'container',
      'aria-labelledby': `${this.#uid}-h`,
      'aria-busy': 'true',
    })
    const heading = el('h2', { part: 'heading', id: `${this.#uid}-h` })
    const label = el('p', { part: 'label' })
    const privacyButton = el('button', {
      type: 'button',
      part: 'button privacy-button',
      'aria-expanded': 'false',
      'aria-controls': `${this.#uid}-privacy`,
    }) as HTMLButtonElement
    privacyButton.textContent = 'Your data'
    privacyButton.addEventListener('click', () => this.#togglePrivacy())
    const privacyPanel = el('div', {
      part: 'privacy-panel',
      id: `${this.#uid}-privacy`,
      role: 'region',
      'aria-label': 'Your data and these recommendations',
    })
    privacyPanel.hidden = true
    const body = el('div', { part: 'body' })
    const live = el('p', { class: 'sr-only', role: 'status' })
    section.append(
      el('header', { part: 'header' }, el('div', {}, heading, label), privacyButton),
      privacyPanel,
      body,
      live,
    )
    this.#root.append(style, section)
    this.#els = { section, heading, label, privacyButton, privacyPanel, body, live }
    this.addEventListener('click', (e) => this.#onClick(e))
    this.addEventListener('keydown', (e) => this.#onKeydown(e))
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

  get #count(): number {
    const n = Number(this.getAttribute('count') ?? DEFAULT_COUNT)
    return Number.isInteger(n) && n >= 1 && n <= 50 ? n : DEFAULT_COUNT
  }

  get #mode(): 'for-you' | 'similar' {
    return this.getAttribute('mode') === 'similar' && this.getAttribute('item') ? 'similar' : 'for-you'
  }

  get #exclude(): string[] {
    return (this.getAttribute('exclude') ?? '').split(/[\s,]+/).filter((x) => x !== '')
  }

  /** `leave-out`: which of the shopper's own items are not shown again ('carted' unless it says 'bought'/'seen'). */
  get #leaveOut(): LeaveOut {
    const value = this.getAttribute('leave-out')
    return isLeaveOut(value) ? value : 'carted'
  }

  get #endpoint(): string | null {
    const raw = this.getAttribute('endpoint')
    if (!raw) return null
    try {
      const url = new URL(raw, location.href)
      if (!url.pathname.endsWith('/')) url.pathname += '/'
      return url.toString()
    } catch {
      return null
    }
  }

  get #dbName(): string {
    return this.getAttribute('db-name') || DEFAULT_ENDPOINT_DB
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
    const endpoint = this.#endpoint
    if (!endpoint) return Promise.reject(new Error('<fedrec-recommendations> needs an endpoint attribute'))
    return sharedRecommender(endpoint, this.#dbName)
  }

  async #load(): Promise<void> {
    // Neither an endpoint nor a recommender yet (a framework sets properties after mounting): keep the
    // skeleton and wait for one, instead of warning about a misconfiguration that is about to be fixed.
    if (!this.#recommenderProp && !this.#endpoint) return
    const generation = ++this.#generation
    const k = this.#count
    const exclude = this.#exclude
    const itemId = this.getAttribute('item') ?? undefined
    // A repeat page view: the last personal list straight from IndexedDB while the worker and tfjs start.
    if (this.#state === 'loading' && this.#mode === 'for-you') void this.#showLastList(generation, k, exclude)
    let set: SuggestionSet
    let degraded = false
    try {
      const rec = await this.#recommender()
      try {
        set = await rec.suggest({
          mode: this.#mode,
          k,
          exclude,
          leaveOut: this.#leaveOut,
          ...(itemId ? { itemId } : {}),
        })
      } catch (err) {
        // Personal scoring needs a tfjs backend; popularity does not, so ask the worker for that first.
        if (!isFedrecError(err) || err.code !== 'no_backend') throw err
        this.#warn('backend', 'no tfjs backend works here; showing popular items', err)
        set = await rec.suggest({ mode: 'popular', k, exclude })
        degraded = true
      }
    } catch (err) {
      this.#warn(
        isFedrecError(err) ? err.code : 'start',
        'recommendations run in degraded mode (popular items only)',
        err,
      )
      degraded = true
      const endpoint = this.#endpoint
      try {
        if (!endpoint) throw err
        set = await degradedPopular(endpoint, this.#dbName, k, new Set(exclude))
      } catch (fallbackErr) {
        this.#warn('fallback', 'no model is reachable for popular items either', fallbackErr)
        set = { kind: 'none', modelVersion: -1, items: [] }
      }
    }
    if (generation !== this.#generation) return
    const state: WidgetState = set.kind === 'none' ? 'empty' : degraded ? 'degraded' : set.kind
    const cards = await Promise.all(
      set.items.map((item, position) => this.#card(item, position, set.kind, degraded)),
    )
    if (generation !== this.#generation) return
    this.#show(state, set.items, cards)
    if (state === 'personal' && this.#mode === 'for-you')
      saveLastList(this.#dbName, LAST_LIST_KEY, set.items, set.modelVersion).catch((err: unknown) =>
        this.#warn('last-list', 'could not keep the list for the next page view', err),
      )
  }

  /** Shows the saved list unless a fresh one (or another load) got there first. */
  async #showLastList(generation: number, k: number, exclude: readonly string[]): Promise<void> {
    let last: LastList | null
    try {
      last = await readLastList(this.#dbName, LAST_LIST_KEY)
    } catch {
      return // no IndexedDB here: the fresh load decides what to show
    }
    if (!last || generation !== this.#generation || this.#state !== 'loading') return
    const skip = new Set(exclude)
    const items: Suggestion[] = last.items
      .filter((item) => !skip.has(item.itemId))
      .slice(0, k)
      .map((item) => ({ itemId: item.itemId, score: 0, because: item.because }))
    if (items.length === 0) return
    const cards = await Promise.all(
      items.map((item, position) => this.#card(item, position, 'personal', false)),
    )
    if (generation !== this.#generation || this.#state !== 'loading') return
    this.#show('personal', items, cards)
  }

  async #card(
    item: Suggestion,
    position: number,
    kind: SuggestionKind,
    degraded: boolean,
  ): Promise<Node | null> {
    const template = this.getAttribute('item-url')
    const url = template ? fill(template, item.itemId, true) : null
    const widgetItem: WidgetItem = {
      itemId: item.itemId,
      position,
      kind: degraded ? 'degraded' : kind,
      because: item.because,
      url,
    }
    try {
      if (this.renderItem) return await this.renderItem(widgetItem)
    } catch (err) {
      this.#warn('render', 'renderItem threw; the item is skipped', err)
      return null
    }
    const tpl = this.querySelector(':scope > template')
    if (tpl instanceof HTMLTemplateElement) {
      const node = tpl.content.cloneNode(true)
      fillNode(node, item.itemId)
      return node
    }
    const a = document.createElement(url ? 'a' : 'span')
    if (url) a.setAttribute('href', url)
    a.textContent = this.#label(item.itemId)
    return a
  }

  #headingFor(state: WidgetState): string {
    const heading = this.getAttribute('heading') ?? 'Recommended for you'
    // "Because you viewed X" over a list that is not about X would be untrue: say what the list is.
    if (this.#mode === 'similar' && state !== 'similar' && state !== 'loading') {
      return state === 'personal' ? 'Recommended for you' : 'Popular right now'
    }
    return heading
  }

  #setState(state: WidgetState): void {
    this.#state = state
    this.setAttribute('state', state)
    this.#els.heading.textContent = this.#headingFor(state)
  }

  #showSkeleton(reflect = true): void {
    if (reflect) this.#setState('loading')
    else this.#els.heading.textContent = this.#headingFor('loading')
    const list = el('ul', { part: 'list skeleton-list', 'aria-hidden': 'true' })
    for (let i = 0; i < Math.min(this.#count, 5); i++)
      list.append(el('li', { part: 'item' }, el('div', { part: 'skeleton' })))
    this.#els.body.replaceChildren(list)
    this.#els.label.replaceChildren('Loading recommendations…')
  }

  #show(state: WidgetState, items: Suggestion[], cards: (Node | null)[]): void {
    this.#setState(state)
    this.#els.section.setAttribute('aria-busy', 'false')
    // Slotted cards are light-DOM children: the shop's own CSS styles them.
    for (const old of this.querySelectorAll(':scope > [data-fedrec-item]')) old.remove()
    this.#items = []
    const list = el('ul', { part: 'list', 'aria-label': this.#els.heading.textContent ?? '' })
    items.forEach((item, i) => {
      const card = cards[i]
      if (!card) return
      const position = this.#items.length
      const slotName = `item-${position}`
      const wrap = document.createElement('div')
      wrap.setAttribute('slot', slotName)
      wrap.dataset.fedrecItem = item.itemId
      wrap.dataset.fedrecPosition = String(position)
      wrap.append(card)
      this.append(wrap)
      this.#items.push({ itemId: item.itemId, position })
      const whyId = `${this.#uid}-why-${position}`
      const why = el('p', { part: 'why', id: whyId })
      why.hidden = true
      why.textContent = this.#reason(state, item)
      const whyButton = el('button', {
        type: 'button',
        part: 'button why-button',
        'aria-expanded': 'false',
        'aria-controls': whyId,
        // The visible text first (WCAG 2.5.3, label in name), then which product it is about.
        'aria-label': `Why this? ${this.#label(item.itemId)}`,
      })
      whyButton.textContent = 'Why this?'
      whyButton.addEventListener('click', () => {
        why.hidden = !why.hidden
        whyButton.setAttribute('aria-expanded', String(!why.hidden))
      })
      list.append(
        el(
          'li',
          { part: 'item', 'data-item-id': item.itemId },
          el('slot', { name: slotName }),
          whyButton,
          why,
        ),
      )
    })
    const label = this.#els.label
    label.replaceChildren()
    if (this.#items.length === 0) {
      label.textContent = 'Learned privately, on this device'
      const empty = el('p', { part: 'empty' })
      empty.textContent = "Browse a few products and we'll learn what you like — privately, on this device."
      this.#els.body.replaceChildren(empty)
      if (state !== 'empty') this.#setState('empty')
    } else {
      const badge = el('span', { part: 'badge' })
      const text: Record<Exclude<WidgetState, 'loading' | 'empty'>, [string, string]> = {
        personal: ['For you', 'Learned from your browsing, on this device'],
        similar: ['Similar', 'Close to this item in the shared model'],
        popular: ['Popular', 'What shoppers like right now — personal picks follow as you browse'],
        degraded: ['Popular', 'What shoppers like right now'],
      }
      const [badgeText, note] = text[this.#state as keyof typeof text]
      badge.textContent = badgeText
      label.append(badge, note)
      this.#els.body.replaceChildren(list)
    }
    this.#els.live.textContent =
      this.#items.length > 0
        ? `${this.#items.length} ${this.#els.heading.textContent ?? 'recommendations'} loaded`
        : ''
    this.dispatchEvent(
      new CustomEvent<StateDetail>('fedrec-state', {
        detail: { state: this.#state, itemIds: this.#items.map((i) => i.itemId) },
        bubbles: true,
        composed: true,
      }),
    )
    if (this.#privacyOpen) void this.#renderPrivacy()
  }

  #reason(state: WidgetState, item: Suggestion): string {
    if (state === 'popular' || state === 'degraded')
      return 'Popular with shoppers across the store. The shared model learns this from everyone’s anonymous updates.'
    if (!item.because) return 'It matches the taste profile your browser learned from your activity.'
    const other = this.#label(item.because.itemId)
    return state === 'similar'
      ? `Similar to ${other} in the shared model.`
      : `Because you looked at ${other}: the two are close in what your browser learned.`
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

  // Arrow keys move between items (to each item's first focusable element); Tab still walks everything.
  #onKeydown(event: KeyboardEvent): void {
    if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return
    const path = event.composedPath()
    const inItem = path.find(
      (n): n is HTMLElement =>
        n instanceof HTMLElement && (n.dataset.fedrecItem !== undefined || n.dataset.itemId !== undefined),
    )
    if (!inItem) return
    const id = inItem.dataset.fedrecItem ?? inItem.dataset.itemId
    const at = this.#items.findIndex((i) => i.itemId === id)
    if (at < 0) return
    const last = this.#items.length - 1
    const to =
      event.key === 'Home'
        ? 0
        : event.key === 'End'
          ? last
          : Math.max(0, Math.min(last, at + (event.key === 'ArrowRight' ? 1 : -1)))
    const wrap = this.querySelector<HTMLElement>(`:scope > [data-fedrec-position="${to}"]`)
    const focusable = wrap?.querySelector<HTMLElement>(
      'a[href], button, input, [tabindex]:not([tabindex="-1"])',
    )
    if (!focusable) return
    event.preventDefault()
    focusable.focus()
    focusable.scrollIntoView({ block: 'nearest', inline: 'nearest' })
  }

  #togglePrivacy(): void {
    this.#privacyOpen = !this.#privacyOpen
    this.#confirmErase = false
    this.#els.privacyButton.setAttribute('aria-expanded', String(this.#privacyOpen))
    this.#els.privacyPanel.hidden = !this.#privacyOpen
    if (this.#privacyOpen) void this.#renderPrivacy()
  }

  async #renderPrivacy(focus?: string): Promise<void> {
    const panel = this.#els.privacyPanel
    let data: LocalData | null = null
    let rec: Recommender | null = null
    try {
      rec = await this.#recommender()
      data = await rec.localData()
    } catch {
      data = null
    }
    const title = el('h3', {})
    title.textContent = 'Your data'
    const leaves = el('p', {})
    leaves.textContent =
      'What leaves this device: changes to the shared model’s weights for the products you interacted with (and a few picked at random), with a random id, when your browser takes part in a training round; whoever runs the service could tell from them which products you interacted with. Your events, their times and your taste profile never leave it.'
    if (!data || !rec) {
      const off = el('p', {})
      off.textContent =
        'Learning is not available in this browser, so nothing about you is stored or sent. The suggestions are what is popular with other shoppers.'
      leaves.textContent =
        'What leaves this device: nothing about you. The page only downloads the shared model to find popular items.'
      panel.replaceChildren(title, off, leaves)
      return
    }
    const stored = el('ul', {})
    const line = (text: string) => {
      const li = document.createElement('li')
      li.textContent = text
      stored.append(li)
    }
    line(
      `${data.events} ${data.events === 1 ? 'interaction' : 'interactions'} with ${data.items} ${data.items === 1 ? 'product' : 'products'}`,
    )
    line(data.profile ? 'A taste profile trained on this device' : 'No taste profile yet')
    line(
      data.model
        ? `The shared model, version ${data.model.version} (${Math.round(data.model.bytes / 1024)} KB)`
        : 'No copy of the shared model yet',
    )
    const storedTitle = el('p', {})
    storedTitle.textContent = 'Stored only in this browser:'
    const pause = el('button', {
      type: 'button',
      part: 'button pause-button',
      'aria-pressed': String(data.paused),
      'data-focus': 'pause',
    })
    pause.textContent = 'Pause learning'
    const theRec = rec
    pause.addEventListener('click', () => {
      const next = pause.getAttribute('aria-pressed') !== 'true'
      theRec.setPaused(next).then(
        () => {
          this.#els.live.textContent = next ? 'Learning paused' : 'Learning resumed'
          void this.#renderPrivacy('pause')
        },
        (err: unknown) => this.#warn('pause', 'could not change the pause switch', err),
      )
    })
    const actions = el('div', { class: 'actions' }, pause)
    if (this.#confirmErase) {
      const yes = el('button', {
        type: 'button',
        part: 'button danger erase-confirm',
        'data-focus': 'confirm',
      })
      yes.textContent = 'Yes, erase everything'
      yes.addEventListener('click', () => {
        this.#confirmErase = false
        theRec.forget().then(
          () => {
            this.#els.live.textContent = 'Everything this device knew about you is erased'
            void this.#load()
            void this.#renderPrivacy('erase')
          },
          (err: unknown) => this.#warn('forget', 'could not erase the local data', err),
        )
      })
      const no = el('button', { type: 'button', part: 'button', 'data-focus': 'cancel' })
      no.textContent = 'Cancel'
      no.addEventListener('click', () => {
        this.#confirmErase = false
        void this.#renderPrivacy('erase')
      })
      actions.append(yes, no)
    } else {
      const erase = el('button', {
        type: 'button',
        part: 'button danger erase-button',
        'data-focus': 'erase',
      })
      erase.textContent = 'Erase everything'
      erase.addEventListener('click', () => {
        this.#confirmErase = true
        void this.#renderPrivacy('confirm')
      })
      actions.append(erase)
    }
    const status = el('p', {})
    status.textContent = data.paused
      ? 'Learning is paused: nothing new is recorded or sent.'
      : 'Learning is on: your clicks, carts and purchases teach your browser, not our servers.'
    panel.replaceChildren(title, storedTitle, stored, status, leaves, actions)
    if (focus) panel.querySelector<HTMLElement>(`[data-focus="${focus}"]`)?.focus()
  }
}

function el(tag: string, attrs: Record<string, string>, ...children: Node[]): HTMLElement {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

/** `{id}` in a template, URL-encoded where it goes into a URL. */
function fill(text: string, itemId: string, url: boolean): string {
  return text.replaceAll('{id}', url ? encodeURIComponent(itemId) : itemId)
}

function fillNode(node: Node, itemId: string): void {
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT)
  for (let n: Node | null = walker.currentNode; n; n = walker.nextNode()) {
    if (n.nodeType === Node.TEXT_NODE && n.textContent?.includes('{id}'))
      n.textContent = fill(n.textContent, itemId, false)
    if (n instanceof Element) {
      for (const attr of n.attributes) {
        if (attr.value.includes('{id}'))
          attr.value = fill(attr.value, itemId, ['href', 'src', 'srcset', 'action'].includes(attr.name))
      }
    }
  }
}
