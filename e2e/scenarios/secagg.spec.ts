// QA scenario: secure aggregation in real browsers survives dropouts with the right aggregate and no plain
// delta sent, masks the item-feature table of a model with item features too; a cohort too small aborts
// cleanly.
import {
  decodeModel,
  encodeUpdate,
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ModelSnapshot,
  newRandomId,
  type TensorDelta,
} from '@fedrec/protocol'
import type { Page } from '@playwright/test'
import {
  expect,
  type Qa,
  type QaAggregator,
  type QaCatalogueEntry,
  type Shopper,
  type SyncOutcome,
  test,
} from '../kit/index.ts'

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

/**
 * An aggregator whose rounds are secure-aggregated by one cohort of exactly `n` shoppers, and its status
 * once it has said so in its round config.
 */
async function startCohortAggregator(
  qa: Qa,
  cohort: { n: number; threshold: number; phaseTimeout: number },
  options: { catalogue: string | readonly QaCatalogueEntry[]; args?: string[] },
) {
  const { n, threshold, phaseTimeout } = cohort
  const agg = await qa.aggregator({
    minClients: n,
    catalogue: options.catalogue,
    args: [
      '--secure-aggregation',
      ...['--secagg-min-cohort', String(n), '--secagg-max-cohort', String(n)],
      ...['--secagg-threshold', String(threshold), '--secagg-phase-timeout', String(phaseTimeout)],
      ...(options.args ?? []),
    ],
  })
  const before = await agg.status()
  expect(before.config.secureAggregation).toEqual({
    minCohort: n,
    maxCohort: n,
    threshold,
    phaseTimeoutSeconds: phaseTimeout,
  })
  return { agg, before }
}

/** The model an aggregator serves now (`GET /v1/model`), decoded. */
async function fetchModel(agg: QaAggregator): Promise<ModelSnapshot> {
  return decodeModel(new Uint8Array(await (await fetch(new URL('v1/model', agg.url))).arrayBuffer()))
}

/** Length in u32 of the masked vector: [weight | (row weights | biases | embeddings) of items, then of feature rows]. */
function maskedVectorLength(numItems: number, dim: number, numFeatures = 0): number {
  return 1 + (numItems + numFeatures) * (2 + dim)
}

/**
 * Each successful outcome uploaded in `round`, and counted what its shopper POSTed: at least the masked vector
 * of `vectorLength` u32.
 */
function expectSecureUploads(
  shoppers: readonly Shopper[],
  outcomes: readonly SyncOutcome[],
  round: number,
  vectorLength: number,
): void {
  for (const [i, o] of outcomes.entries()) {
    if (!o.ok) continue
    expect(o.report).toMatchObject({ uploaded: true, round })
    // bytesUp counts what was sent: at least the masked vector (4 bytes per element).
    expect(o.report.bytesUp).toBeGreaterThanOrEqual(4 * vectorLength)
    const sent = shoppers[i]!.traffic.filter((t) => t.method === 'POST').reduce((a, t) => a + t.bytesUp, 0)
    expect(o.report.bytesUp).toBe(sent)
  }
}

/**
 * The recorded plain deltas, posted by this test (never by a shopper) as plain updates to a fresh plain
 * aggregator started with the same seed and `options` (catalogue, flags): the model it publishes is what
 * secure aggregation must have published. Checks the reference started from the same model as `initial`.
 */
async function publishPlainReference(
  qa: Qa,
  plain: readonly PlainInput[],
  initial: ModelSnapshot,
  options: { catalogue: string | readonly QaCatalogueEntry[]; args?: string[] },
): Promise<ModelSnapshot> {
  const reference = await qa.aggregator({ minClients: plain.length, ...options })
  const refBefore = await reference.status()
  const start = await fetchModel(reference)
  expect(start.itemIds).toEqual(initial.itemIds)
  for (const t of initial.tensors)
    expect(start.tensors.find((r) => r.name === t.name)?.values, `reference's initial ${t.name}`).toEqual(
      t.values,
    )
  for (const p of plain) {
    const tensors: TensorDelta[] = p.deltas.map((d) => ({
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
      sampleCount: p.sampleCount,
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
  return fetchModel(reference)
}

/** Per tensor: the largest |secure − plain| and the largest change the round made to the secure model. */
function compareModels(
  secure: ModelSnapshot,
  plain: ModelSnapshot,
  before: ModelSnapshot,
  names: readonly string[],
): Map<string, { worst: number; moved: number }> {
  const result = new Map<string, { worst: number; moved: number }>()
  for (const name of names) {
    const values = (m: ModelSnapshot, which: string) => {
      const t = m.tensors.find((x) => x.name === name)
      expect(t, `${which} model has ${name}`).toBeDefined()
      return t!.values
    }
    const [a, b, old] = [values(secure, 'secure'), values(plain, 'plain'), values(before, 'initial')]
    expect(a.length, name).toBe(b.length)
    let worst = 0
    let moved = 0
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
      moved = Math.max(moved, Math.abs(a[i]! - old[i]!))
    }
    result.set(name, { worst, moved })
  }
  return result
}

/**
 * No body a shopper sent equals or contains its plain delta (float32 values of any touched row, or its
 * quantised embedding rows before masking — item rows, and feature rows when `numFeatures` is given); no
 * plain update was ever posted; every shopper with a recorded input sent a masked upload that is not its
 * quantised vector; none of the first catalogue ids appears in a body.
 */
function expectNoPlainDeltaOnWire(
  shoppers: readonly Shopper[],
  inputs: ReadonlyMap<string, readonly PlainInput[]>,
  layout: { numItems: number; dim: number; numFeatures?: number; itemIds: readonly string[] },
): void {
  const { numItems, dim, numFeatures } = layout
  // Where row 0 of each embedding sits in the quantised vector.
  const embeddingBase: Record<string, number> = { [ITEM_EMBEDDING]: 1 + 2 * numItems }
  if (numFeatures !== undefined) embeddingBase[FEATURE_EMBEDDING] = 1 + numItems * (2 + dim) + 2 * numFeatures
  for (const s of shoppers) {
    expect(s.requestsTo('v1/updates', 'POST'), s.name).toHaveLength(0)
    const mine = inputs.get(s.name)?.[0]
    if (!mine) continue
    const needles: Uint8Array[] = []
    for (const d of mine.deltas) {
      for (let r = 0; r < d.rowIds.length; r++)
        needles.push(new Uint8Array(Float32Array.from(d.values.slice(r * d.cols, (r + 1) * d.cols)).buffer))
      const base = embeddingBase[d.name]
      if (base === undefined) continue
      for (const row of d.rowIds)
        needles.push(
          new Uint8Array(
            Uint32Array.from(mine.vector.slice(base + row * dim, base + (row + 1) * dim)).buffer,
          ),
        )
    }
    const bodies = s.traffic.filter((t) => t.method === 'POST').map((t) => t.request.postDataBuffer())
    expect(bodies.length, s.name).toBeGreaterThan(0)
    for (const body of bodies) {
      if (!body) continue
      const bytes = new Uint8Array(body)
      for (const needle of needles)
        expect(contains(bytes, needle), `${s.name}: a plain delta in a request body`).toBe(false)
      const asText = body.toString('latin1')
      for (const id of layout.itemIds.slice(0, 50)) expect(asText.includes(id)).toBe(false)
    }
    // The masked upload is there and is not the quantised vector.
    const masked = s.traffic.find((t) => t.method === 'POST' && t.url.endsWith('/masked'))
    expect(masked, s.name).toBeDefined()
    const bytes = new Uint8Array(masked!.request.postDataBuffer()!)
    expect(Buffer.from(bytes).equals(Buffer.from(Uint32Array.from(mine.vector).buffer))).toBe(false)
  }
}

test('secure aggregation: five shoppers, one drops before uploading and one before unmasking; the round closes with the plain aggregate of the survivors and no plain delta is on the wire', {
  tag: '@secagg',
}, async ({ qa }) => {
  const n = 5
  const population = qa.population(n)
  const phaseTimeout = 10
  const { agg, before } = await startCohortAggregator(
    qa,
    { n, threshold: 3, phaseTimeout },
    { catalogue: population.catalogue },
  )
  const globalBefore = await fetchModel(agg)
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
  for (const [i, o] of outcomes.entries())
    if (i >= 2) expect(o.ok, `${shoppers[i]!.name}: ${JSON.stringify(o)}`).toBe(true)
  expectSecureUploads(
    shoppers,
    outcomes,
    before.round,
    maskedVectorLength(globalBefore.itemIds.length, before.dim),
  )

  const status = await agg.waitForModelVersion(before.modelVersion + 1)
  const closed = status.history.at(-1)!
  // Survivors: everyone whose masked input arrived — shopper 1 too, although it left before unmasking.
  const survivors = shoppers.slice(1).map((s) => s.name)
  const plain = survivors.map((name) => inputs.get(name)?.[0])
  for (const [k, p] of plain.entries()) expect(p, `${survivors[k]} recorded its plain input`).toBeDefined()
  expect(closed).toMatchObject({ round: before.round, participants: survivors.length })
  expect(closed.samples).toBe(plain.reduce((a, p) => a + p!.sampleCount, 0))

  const plainModel = await publishPlainReference(qa, plain as PlainInput[], globalBefore, {
    catalogue: population.catalogue,
  })
  const secureModel = await fetchModel(agg)
  const diffs = [
    ...compareModels(secureModel, plainModel, globalBefore, [ITEM_EMBEDDING, ITEM_BIAS]).values(),
  ]
  const worst = Math.max(...diffs.map((d) => d.worst))
  const moved = Math.max(...diffs.map((d) => d.moved))
  // Quantisation (scale 4096, stochastic rounding) of each survivor's n_k·Δ, divided by Σ n_k.
  expect(worst).toBeLessThan(survivors.length / 4096)
  expect(moved).toBeGreaterThan(10 * worst) // the round changed the model far more than the rounding did

  // Item 5: no plain delta on the wire, no plain update posted.
  expectNoPlainDeltaOnWire(shoppers, inputs, {
    numItems: globalBefore.itemIds.length,
    dim: before.dim,
    itemIds: population.itemIds,
  })
  console.info(
    `secagg: ${survivors.length} survivors; largest |secure − plain| ${worst.toExponential(2)}, largest model change ${moved.toExponential(2)}; bytes up per shopper ${outcomes.flatMap((o) => (o.ok ? [o.report.bytesUp] : [])).join(', ')}; bytes down ${outcomes.flatMap((o) => (o.ok ? [o.report.bytesDown] : [])).join(', ')}; secure-aggregation wall time (ms, incl. waiting for the drop-out's deadline) ${outcomes.flatMap((o) => (o.ok ? [Math.round(o.report.phases?.upload ?? Number.NaN)] : [])).join(', ')}`,
  )
})

test('secure aggregation with item features: three shoppers of a model with a 64-row feature table mask their feature deltas too; the round closes with the plain aggregate of all four tensors and no plain delta is on the wire', {
  tag: '@secagg',
}, async ({ qa }) => {
  const n = 3
  const numFeatures = 64 // a small F keeps the masked vector small
  const population = qa.population(n)
  // The population's items, each described by a category path, a brand and a price, all of which hash into
  // the feature table (docs/aggregator.md, "Item features").
  const products = new Map(qa.products.map((p) => [p.id, p]))
  const brands = ['Acme', 'Hearthstone', 'Northwind', 'Fabrikam']
  const catalogue: QaCatalogueEntry[] = population.itemIds.map((id, i) => {
    const p = products.get(id)
    return {
      id,
      category: `${p?.category ?? 'Other'}.${p?.name.split(' ').at(-1) ?? 'Misc'}`,
      brand: brands[i % brands.length]!,
      price: 2 + ((i * 7) % 120),
    }
  })
  const features = ['--feature-rows', String(numFeatures)]
  // Nobody drops out here: a phase ends when every member has answered, long before 60 s.
  const { agg, before } = await startCohortAggregator(
    qa,
    { n, threshold: 2, phaseTimeout: 60 },
    { catalogue, args: features },
  )
  expect(before.featureRows).toBe(numFeatures)
  const globalBefore = await fetchModel(agg)
  expect(globalBefore.itemFeatures?.numFeatures).toBe(numFeatures)
  const numItems = globalBefore.itemIds.length
  const vectorLength = maskedVectorLength(numItems, before.dim, numFeatures)

  const shoppers = await qa.shoppers(agg, population.profiles)
  const readers = await Promise.all(shoppers.map((s) => recordPlainInputs(s.page)))
  const outcomes = await Promise.all(shoppers.map((s) => s.trySync()))
  for (const [i, o] of outcomes.entries())
    expect(o.ok, `${shoppers[i]!.name}: ${JSON.stringify(o)}`).toBe(true)
  const inputs = new Map<string, PlainInput[]>()
  for (const [i, s] of shoppers.entries()) inputs.set(s.name, await readers[i]!())
  expectSecureUploads(shoppers, outcomes, before.round, vectorLength)
  for (const s of shoppers) {
    // The round went through the cohort: keys advertised, a masked vector uploaded, nothing posted in plain.
    expect(s.requestsTo('v1/secagg/join', 'POST').length, s.name).toBeGreaterThan(0)
    expect(
      s.traffic.filter((t) => t.method === 'POST' && t.url.endsWith('/masked')),
      s.name,
    ).toHaveLength(1)
  }

  // The round closes by the cohort's unmasked sum: everyone's input, counted once.
  const status = await agg.waitForModelVersion(before.modelVersion + 1)
  const closed = status.history.at(-1)!
  const plain = shoppers.map((s) => inputs.get(s.name)?.[0])
  for (const [k, p] of plain.entries())
    expect(p, `${shoppers[k]!.name} recorded its plain input`).toBeDefined()
  expect(closed).toMatchObject({ round: before.round, participants: n, closedBy: 'quorum' })
  expect(closed.samples).toBe(plain.reduce((a, p) => a + p!.sampleCount, 0))
  // What each browser put in its vector includes feature rows: the vector has the feature part, and the
  // plain deltas carry both feature tensors with rows inside the table (a browser that dropped its
  // features would fail here, not only in the comparison below).
  for (const [k, p] of plain.entries()) {
    const who = shoppers[k]!.name
    expect(p!.round, who).toBe(before.round)
    expect(p!.vector, who).toHaveLength(vectorLength)
    for (const [name, cols] of [
      [FEATURE_EMBEDDING, before.dim],
      [FEATURE_BIAS, 1],
    ] as const) {
      const d = p!.deltas.find((x) => x.name === name)
      expect(d, `${who}: ${name} in the plain input`).toBeDefined()
      expect(d!.cols, `${who}: ${name}`).toBe(cols)
      expect(d!.rowIds.length, `${who}: ${name} rows`).toBeGreaterThan(0)
      for (const row of d!.rowIds) expect(row, `${who}: ${name} row`).toBeLessThan(numFeatures)
      expect(
        d!.values.some((v) => v !== 0),
        `${who}: ${name} values`,
      ).toBe(true)
    }
  }

  const plainModel = await publishPlainReference(qa, plain as PlainInput[], globalBefore, {
    catalogue,
    args: features,
  })
  const secureModel = await fetchModel(agg)
  expect(secureModel.itemIds).toEqual(plainModel.itemIds)
  expect(secureModel.itemFeatures?.numFeatures).toBe(numFeatures)
  const diffs = compareModels(secureModel, plainModel, globalBefore, [
    ITEM_EMBEDDING,
    ITEM_BIAS,
    FEATURE_EMBEDDING,
    FEATURE_BIAS,
  ])
  const bound = n / 4096 // as above: the rounding of each shopper's n_k·Δ, divided by Σ n_k
  for (const [name, d] of diffs) expect(d.worst, `largest |secure − plain| of ${name}`).toBeLessThan(bound)
  const worst = Math.max(...[...diffs.values()].map((d) => d.worst))
  // The feature rows moved, far more than the rounding did.
  for (const name of [FEATURE_EMBEDDING, FEATURE_BIAS])
    expect(diffs.get(name)!.moved, `largest change of ${name}`).toBeGreaterThan(10 * worst)

  expectNoPlainDeltaOnWire(shoppers, inputs, {
    numItems,
    dim: before.dim,
    numFeatures,
    itemIds: population.itemIds,
  })
  console.info(
    `secagg with features (F = ${numFeatures}): ${[...diffs].map(([name, d]) => `${name} |secure − plain| ≤ ${d.worst.toExponential(2)}, moved ${d.moved.toExponential(2)}`).join('; ')}; masked vector ${4 * vectorLength} B; bytes up per shopper ${outcomes.flatMap((o) => (o.ok ? [o.report.bytesUp] : [])).join(', ')}; feature rows per shopper ${plain.map((p) => p!.deltas.find((d) => d.name === FEATURE_EMBEDDING)!.rowIds.length).join(', ')}`,
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
