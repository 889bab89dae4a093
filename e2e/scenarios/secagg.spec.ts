// QA scenario: secure aggregation in real browsers survives dropouts with the right aggregate and no plain
// delta sent; a cohort too small aborts cleanly.
import { decodeModel, encodeUpdate, newRandomId, type TensorDelta } from '@fedrec/protocol'
import type { Page } from '@playwright/test'
import { expect, type Shopper, test } from '../kit/index.ts'

/** What the QA hook of packages/browser/src/engine/sync/secagg/qa-hook.ts records in the worker: never sent anywhere. */
interface PlainInput {
  round: number
  sampleCount: number
  deltas: { name: string; cols: number; rowIds: number[]; values: number[] }[]
  /** The quantised vector before masking. */
  vector: number[]
}

/** Plants the QA slot in the shopper's worker (started with the page) so its plain input is recorded. */
async function recordPlainInputs(page: Page): Promise<() => Promise<PlainInput[]>> {
  await expect.poll(() => page.workers().length).toBeGreaterThan(0)
  const worker = page.workers()[0]!
  await worker.evaluate(() => {
    ;(globalThis as { __fedrecSecAggQa?: unknown[] }).__fedrecSecAggQa = []
  })
  return () =>
    worker.evaluate(() => (globalThis as unknown as { __fedrecSecAggQa: PlainInput[] }).__fedrecSecAggQa)
}

/** Closes the shopper's tab once its browser has finished a POST to a path ending in `suffix`. */
function closeTabAfterPost(shopper: Shopper, suffix: string, before?: () => Promise<void>): Promise<void> {
  const page = shopper.page
  return new Promise((resolve, reject) => {
    page.on('requestfinished', async function onFinished(request) {
      if (request.method() !== 'POST' || !new URL(request.url()).pathname.endsWith(suffix)) return
      page.off('requestfinished', onFinished)
      try {
        await before?.()
        await page.close()
        resolve()
      } catch (err) {
        reject(err)
      }
    })
  })
}

/**
 * Holds the shopper's masked upload inside its worker (its `fetch` never sends it), then closes the tab: it
 * shared its keys and left before uploading, whatever the timing of the cohort. Test-only, like the kit's
 * WebGL fault; nothing in the library is involved.
 */
async function closeTabInsteadOfUpload(shopper: Shopper): Promise<{ closed: Promise<void> }> {
  const worker = shopper.page.workers()[0]
  if (!worker) throw new Error(`${shopper.name}: the shop page has no worker`)
  await worker.evaluate(() => {
    const g = globalThis as unknown as { __fedrecQaHeld: boolean; fetch: typeof fetch }
    const original = g.fetch.bind(globalThis)
    g.__fedrecQaHeld = false
    g.fetch = (input, init) => {
      if (init?.method === 'POST' && String(input).endsWith('/masked')) {
        g.__fedrecQaHeld = true
        return new Promise<Response>(() => undefined)
      }
      return original(input, init)
    }
  })
  // Wrapped: an async function returning a promise would make its caller wait for the close itself.
  const closed = (async () => {
    await expect
      .poll(
        () => worker.evaluate(() => (globalThis as unknown as { __fedrecQaHeld: boolean }).__fedrecQaHeld),
        {
          timeout: 120_000,
        },
      )
      .toBe(true)
    await shopper.page.close()
  })()
  return { closed }
}

/** True when `needle` occurs in `hay` as a byte sequence. */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return false
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).includes(Buffer.from(needle))
}

test('secure aggregation: five shoppers, one drops before uploading and one before unmasking; the round closes with the plain aggregate of the survivors and no plain delta is on the wire', {
  tag: '@secagg',
}, async ({ qa }) => {
  const n = 5
  const population = qa.population(n)
  const phaseTimeout = 10
  const secure = [
    '--secure-aggregation',
    '--secagg-min-cohort',
    String(n),
    '--secagg-max-cohort',
    String(n),
    '--secagg-threshold',
    '3',
    '--secagg-phase-timeout',
    String(phaseTimeout),
  ]
  const agg = await qa.aggregator({ minClients: n, catalogue: population.catalogue, args: secure })
  const before = await agg.status()
  expect(before.config.secureAggregation).toEqual({
    minCohort: n,
    maxCohort: n,
    threshold: 3,
    phaseTimeoutSeconds: phaseTimeout,
  })
  const globalBefore = decodeModel(
    new Uint8Array(await (await fetch(new URL('v1/model', agg.url))).arrayBuffer()),
  )
  const shoppers = await qa.shoppers(agg, population.profiles)
  const readers = await Promise.all(shoppers.map((s) => recordPlainInputs(s.page)))
  // Shopper 0 shares its keys, then its tab closes: it never uploads (its pairwise masks are recovered).
  const { closed: beforeUpload } = await closeTabInsteadOfUpload(shoppers[0]!)
  const inputs = new Map<string, PlainInput[]>()
  const read = async (i: number) => {
    inputs.set(shoppers[i]!.name, await readers[i]!())
  }

  // Shopper 1 uploads its masked vector, then its tab closes before unmasking (its self mask is removed):
  // unmasking starts only at the mask phase's deadline, since shopper 0 never uploads.
  const afterUpload = closeTabAfterPost(shoppers[1]!, '/masked', () => read(1))
  const outcomes = await Promise.all(shoppers.map((s) => s.trySync()))
  await Promise.all([beforeUpload, afterUpload])
  for (let i = 2; i < n; i++) await read(i)

  expect(outcomes[0]).toMatchObject({ ok: false })
  expect(outcomes[1]).toMatchObject({ ok: false })
  for (const [i, o] of outcomes.entries()) {
    if (i < 2) continue
    expect(o.ok, `${shoppers[i]!.name}: ${JSON.stringify(o)}`).toBe(true)
    if (!o.ok) continue
    expect(o.report).toMatchObject({ uploaded: true, round: before.round })
    // bytesUp counts what was sent: at least the masked vector (4 bytes per element).
    expect(o.report.bytesUp).toBeGreaterThanOrEqual(4 * (1 + globalBefore.itemIds.length * (2 + before.dim)))
    const sent = shoppers[i]!.traffic.filter((t) => t.method === 'POST').reduce((a, t) => a + t.bytesUp, 0)
    expect(o.report.bytesUp).toBe(sent)
  }

  const status = await agg.waitForModelVersion(before.modelVersion + 1)
  const closed = status.history.at(-1)!
  // Survivors: everyone whose masked input arrived — shopper 1 too, although it left before unmasking.
  const survivors = shoppers.slice(1).map((s) => s.name)
  const plain = survivors.map((name) => inputs.get(name)?.[0])
  for (const [k, p] of plain.entries()) expect(p, `${survivors[k]} recorded its plain input`).toBeDefined()
  expect(closed).toMatchObject({ round: before.round, participants: survivors.length })
  expect(closed.samples).toBe(plain.reduce((a, p) => a + p!.sampleCount, 0))

  // The same plain deltas, posted by this test (never by a shopper) to a plain aggregator with the same
  // seed and catalogue: the model it publishes is what secure aggregation must have published.
  const reference = await qa.aggregator({ minClients: survivors.length, catalogue: population.catalogue })
  const refBefore = await reference.status()
  for (const p of plain) {
    const tensors: TensorDelta[] = p!.deltas.map((d) => ({
      name: d.name,
      cols: d.cols,
      rowIds: Uint32Array.from(d.rowIds),
      values: Float32Array.from(d.values),
    }))
    const body = encodeUpdate({
      round: refBefore.round,
      modelVersion: refBefore.modelVersion,
      clientId: newRandomId(),
      idempotencyKey: newRandomId(),
      sampleCount: p!.sampleCount,
      tensors,
    })
    const res = await fetch(new URL('v1/updates', reference.url), {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/vnd.fedrec.update' },
    })
    expect(res.status, await res.clone().text()).toBe(200)
  }
  await reference.waitForModelVersion(refBefore.modelVersion + 1)
  const model = async (url: string) =>
    decodeModel(new Uint8Array(await (await fetch(new URL('v1/model', url))).arrayBuffer()))
  const [secureModel, plainModel] = await Promise.all([model(agg.url), model(reference.url)])
  let worst = 0
  let moved = 0
  for (const name of ['item_embedding', 'item_bias']) {
    const a = secureModel.tensors.find((t) => t.name === name)!.values
    const b = plainModel.tensors.find((t) => t.name === name)!.values
    const old = globalBefore.tensors.find((t) => t.name === name)!.values
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
      moved = Math.max(moved, Math.abs(a[i]! - old[i]!))
    }
  }
  // Quantisation (scale 4096, stochastic rounding) of each survivor's n_k·Δ, divided by Σ n_k.
  expect(worst).toBeLessThan(survivors.length / 4096)
  expect(moved).toBeGreaterThan(10 * worst) // the round changed the model far more than the rounding did

  // Item 5: no body a shopper sent equals or contains its plain delta (float32 values of any touched row,
  // or its quantised vector before masking); no plain update was ever posted.
  for (const [i, s] of shoppers.entries()) {
    expect(s.requestsTo('v1/updates', 'POST'), s.name).toHaveLength(0)
    const mine = inputs.get(s.name)?.[0]
    if (!mine) continue
    const needles: Uint8Array[] = []
    for (const d of mine.deltas)
      for (let r = 0; r < d.rowIds.length; r++)
        needles.push(new Uint8Array(Float32Array.from(d.values.slice(r * d.cols, (r + 1) * d.cols)).buffer))
    const touched = mine.deltas.find((d) => d.name === 'item_embedding')!.rowIds
    const numItems = globalBefore.itemIds.length
    const base = 1 + 2 * numItems
    for (const row of touched)
      needles.push(
        new Uint8Array(
          Uint32Array.from(mine.vector.slice(base + row * before.dim, base + (row + 1) * before.dim)).buffer,
        ),
      )
    const bodies = s.traffic.filter((t) => t.method === 'POST').map((t) => t.request.postDataBuffer())
    expect(bodies.length, s.name).toBeGreaterThan(0)
    for (const body of bodies) {
      if (!body) continue
      const bytes = new Uint8Array(body)
      for (const needle of needles)
        expect(contains(bytes, needle), `${s.name}: a plain delta in a request body`).toBe(false)
      const asText = body.toString('latin1')
      for (const id of population.itemIds.slice(0, 50)) expect(asText.includes(id)).toBe(false)
    }
    // The masked upload is there and is not the quantised vector.
    const masked = s.traffic.find((t) => t.method === 'POST' && t.url.endsWith('/masked'))
    if (i > 0) {
      expect(masked, s.name).toBeDefined()
      const bytes = new Uint8Array(masked!.request.postDataBuffer()!)
      expect(Buffer.from(bytes).equals(Buffer.from(Uint32Array.from(mine.vector).buffer))).toBe(false)
    }
  }
  console.info(
    `secagg: ${survivors.length} survivors; largest |secure − plain| ${worst.toExponential(2)}, largest model change ${moved.toExponential(2)}; bytes up per shopper ${outcomes.flatMap((o) => (o.ok ? [o.report.bytesUp] : [])).join(', ')}; bytes down ${outcomes.flatMap((o) => (o.ok ? [o.report.bytesDown] : [])).join(', ')}; secure-aggregation wall time (ms, incl. waiting for the drop-out's deadline) ${outcomes.flatMap((o) => (o.ok ? [Math.round(o.report.phases?.upload ?? Number.NaN)] : [])).join(', ')}`,
  )
})

/** Runs in the page: the stored profile's round and user vector, as the library keeps them. */
async function readProfile(): Promise<{ lastRound: number | null; userVector: number[] | null } | null> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('fedrec')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const profile = await new Promise<
    { lastRound: number | null; userVector: Float32Array | null } | undefined
  >((resolve, reject) => {
    const req = db.transaction('profile').objectStore('profile').get('self')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  db.close()
  return profile
    ? { lastRound: profile.lastRound, userVector: profile.userVector ? Array.from(profile.userVector) : null }
    : null
}

test('secure aggregation: a cohort that never reaches its minimum size aborts; sync fails with secagg_aborted and leaves the profile as it was', {
  tag: '@secagg',
}, async ({ qa }) => {
  const population = qa.population(2)
  const args = [
    '--secure-aggregation',
    '--secagg-min-cohort',
    '3',
    '--secagg-max-cohort',
    '3',
    '--secagg-phase-timeout',
    '1.5',
  ]
  const agg = await qa.aggregator({ minClients: 3, catalogue: population.catalogue, args })
  const shoppers = await qa.shoppers(agg, population.profiles)
  const before = await Promise.all(shoppers.map((s) => s.page.evaluate(readProfile)))
  const outcomes = await Promise.all(shoppers.map((s) => s.trySync()))
  for (const [i, o] of outcomes.entries()) {
    expect(o.ok, shoppers[i]!.name).toBe(false)
    if (!o.ok) expect(o.error.code, o.error.message).toBe('secagg_aborted')
    // Nothing was counted, so nothing of this round is kept: the next sync trains and joins again.
    // (A first sync creates the profile with its client id; its round and user vector stay unset.)
    const after = await shoppers[i]!.page.evaluate(readProfile)
    expect(after?.lastRound ?? null).toBe(before[i]?.lastRound ?? null)
    expect(after?.userVector ?? null).toEqual(before[i]?.userVector ?? null)
    expect(shoppers[i]!.requestsTo('v1/updates', 'POST')).toHaveLength(0)
  }
  const status = await agg.status()
  expect(status.modelVersion).toBe(0)
  const state = (await (await fetch(new URL('v1/secagg', agg.url))).json()) as { cohort: number }
  expect(state.cohort).toBeGreaterThan(1) // cohorts aborted and fresh ones formed
})
