/** The setup the widget's browser tests share: a small two-cluster model, mounting, and cleaning up after each test. */
import { expect } from 'vitest'
import { openFedrecDB, type StoredEvent } from '../db.ts'
import { createRecommender, type Recommender } from '../recommender.ts'
import type { FedrecRecommendations, WidgetState } from './element.ts'

/** A closed port: no test reaches a network; models are put in the local cache the way a sync leaves them. */
export const ENDPOINT = 'http://127.0.0.1:9/'
export const ITEMS = Array.from({ length: 12 }, (_, i) => `sku-${i}`)
const DIM = 4
/** Two clusters in embedding space: items 0–5 point along axis 0, items 6–11 along axis 2. */
export const EMBEDDING = Float32Array.from({ length: ITEMS.length * DIM }, (_, i) => {
  const row = Math.floor(i / DIM)
  const col = i % DIM
  const axis = row < 6 ? 0 : 2
  return col === axis ? 1 : col === axis + 1 ? (row % 6) / 20 : 0
})
/** Popularity falls with the row number: sku-0 is the most popular. */
export const BIAS = Float32Array.from(ITEMS, (_, i) => 1 - i / 20)

const cleanup: (() => void | Promise<void>)[] = []

/** Undoes what the test set up (newest first) and empties the page: `afterEach(cleanUp)`. */
export async function cleanUp(): Promise<void> {
  for (const undo of cleanup.splice(0).reverse()) await undo()
  document.body.replaceChildren()
}

/** Runs `undo` after the current test. */
export function afterTest(undo: () => void | Promise<void>): void {
  cleanup.push(undo)
}

/** A widget with these attributes; `setup` runs before it is attached (set properties there). */
export function mount(
  attrs: Record<string, string>,
  setup?: (el: FedrecRecommendations) => void,
): FedrecRecommendations {
  const el = document.createElement('fedrec-recommendations')
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value)
  setup?.(el)
  document.body.append(el)
  return el
}

/** Waits until the widget has left the skeleton; returns its state. */
export async function settled(el: FedrecRecommendations): Promise<WidgetState> {
  await expect.poll(() => el.state).not.toBe('loading')
  return el.state
}

/** The item ids of the cards slotted into the widget, in order. */
export const shownIds = (el: FedrecRecommendations): string[] =>
  [...el.querySelectorAll<HTMLElement>(':scope > [data-fedrec-item]')].map((n) => n.dataset.fedrecItem!)

/** Records events in the shopper's database, one millisecond apart. */
export async function addEvents(dbName: string, events: Omit<StoredEvent, 'ts'>[]): Promise<void> {
  const db = await openFedrecDB(dbName)
  let ts = Date.now()
  for (const e of events) await db.add('events', { ...e, ts: ts++ })
  db.close()
}

/** A recommender of the test's own (no retries), closed after the test. */
export function ownRecommender(dbName: string): Promise<Recommender> {
  const rec = createRecommender({ endpoint: ENDPOINT, dbName, retry: { retries: 0, baseDelayMs: 1 } })
  afterTest(() =>
    rec.then(
      (r) => r.close(),
      () => undefined,
    ),
  )
  return rec
}
