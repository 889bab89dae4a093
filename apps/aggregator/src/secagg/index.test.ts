import { writeFileSync } from 'node:fs'
import {
  decodeModel,
  encodeUpdate,
  FEATURE_BIAS,
  FEATURE_EMBEDDING,
  ITEM_BIAS,
  ITEM_EMBEDDING,
  type ModelUpdate,
  newRandomId,
} from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { getJson, launch, operatorStatus, postUpdate, start, stop, useScratchDir } from '../test-process.ts'
import { catalogueOf, randomUpdate } from '../test-support.ts'
import {
  joinCohort,
  maskedBody,
  postMasked,
  postMaskedBytes,
  postShares,
  postUnmask,
  secAggState,
  secAggVector,
  type TestMember,
  viewOf,
  waitForPhase,
} from './test-clients.ts'

const NUM_ITEMS = 12
const DIM = 4
const SEED = 7
/** Feature rows of the model with item features. */
const F = 16

describe('secure aggregation against a real aggregator process', () => {
  const inDir = useScratchDir('fedrec-secagg-')

  const args = (store: string, extra: string[] = []) => {
    const catalogue = inDir('catalogue.json')
    writeFileSync(catalogue, JSON.stringify(catalogueOf(NUM_ITEMS)))
    return [
      '--port',
      '0',
      '--store',
      inDir(store),
      '--init',
      '--catalogue',
      catalogue,
      '--dim',
      String(DIM),
      '--seed',
      String(SEED),
      ...extra,
    ]
  }
  const secure = (store: string, extra: string[] = []) =>
    args(store, [
      '--secure-aggregation',
      '--secagg-min-cohort',
      '5',
      '--secagg-max-cohort',
      '5',
      '--secagg-threshold',
      '3',
      '--secagg-phase-timeout',
      '3',
      ...extra,
    ])
  const updates = Array.from({ length: 5 }, (_, i) =>
    randomUpdate(0, 0, { numItems: NUM_ITEMS, dim: DIM, seed: 100 + i, sampleCount: 3 + i }),
  )
  const vectorOf = (i: number) =>
    secAggVector(updates[i]!.update.tensors, updates[i]!.update.sampleCount, NUM_ITEMS, DIM)
  // The five updates with two feature rows each besides their item rows; rows 2 and 3 are touched twice.
  const featured = updates.map(({ update }, i) => {
    const rowIds = Uint32Array.from(new Set([i % F, (5 * i + 3) % F])).sort()
    const wave = (k: number) => Math.sin(7 * i + k) / 10
    const full: ModelUpdate = {
      ...update,
      tensors: [
        ...update.tensors,
        {
          name: FEATURE_EMBEDDING,
          cols: DIM,
          rowIds,
          values: Float32Array.from({ length: rowIds.length * DIM }, (_, k) => wave(k)),
        },
        { name: FEATURE_BIAS, cols: 1, rowIds, values: Float32Array.from(rowIds, (_, k) => wave(100 + k)) },
      ],
    }
    return { update: full, bytes: encodeUpdate(full) }
  })
  const model = async (url: string) =>
    decodeModel(new Uint8Array(await (await fetch(`${url}/v1/model`)).arrayBuffer()))
  /**
   * The five `featured` updates through a cohort of five on one aggregator and as plain uploads to another,
   * both started with `flags` and `--feature-rows F`: the models before and after each.
   */
  const secureAndPlain = async (name: string, flags: string[]) => {
    const withFeatures = [...flags, '--feature-rows', String(F)]
    const agg = await start(secure(`${name}.sqlite`, withFeatures))
    const before = await model(agg.url)
    const members: TestMember[] = []
    for (let i = 0; i < 5; i++) members.push(await joinCohort(agg.url, { numFeatures: F }))
    await Promise.all(members.map((m) => postShares(agg.url, m)))
    await Promise.all(
      members.map((m, i) => {
        const { tensors, sampleCount } = featured[i]!.update
        return postMasked(agg.url, m, secAggVector(tensors, sampleCount, NUM_ITEMS, DIM, F))
      }),
    )
    await Promise.all(members.map((m) => postUnmask(agg.url, m)))
    const status = await operatorStatus(agg.url)
    expect(status.modelVersion).toBe(1)
    expect(status.history[0]).toMatchObject({ participants: 5, samples: 3 + 4 + 5 + 6 + 7 })
    const reference = await start(args(`${name}-plain.sqlite`, [...withFeatures, '--min-clients', '5']))
    for (const u of featured) expect((await postUpdate(reference.url, u.bytes)).status).toBe(200)
    expect((await operatorStatus(reference.url)).modelVersion).toBe(1)
    return { before, secureModel: await model(agg.url), plainModel: await model(reference.url) }
  }

  it('closes the round with the sum of the survivors although one member drops before and one after uploading; the model is the plain aggregation of the survivors', async () => {
    const agg = await start(secure('secure.sqlite'))
    const info = (await getJson(`${agg.url}/v1/round`)) as { config: { secureAggregation?: unknown } }
    expect(info.config.secureAggregation).toEqual({
      minCohort: 5,
      maxCohort: 5,
      threshold: 3,
      phaseTimeoutSeconds: 3,
    })
    // A plain update is refused: it would show the server the delta.
    const plain = await postUpdate(agg.url, updates[0]!.bytes)
    expect(plain.status).toBe(409)
    expect(await plain.json()).toMatchObject({ error: { code: 'secure_aggregation_required' } })

    const members: TestMember[] = []
    for (let i = 0; i < 5; i++) members.push(await joinCohort(agg.url))
    expect((await secAggState(agg.url)).phase).toBe('share')
    await Promise.all(members.map((m) => postShares(agg.url, m)))
    // Member 4 shared its keys, then vanished: it never uploads (its pairwise masks are recovered from s shares).
    await Promise.all(members.slice(0, 4).map((m, i) => postMasked(agg.url, m, vectorOf(i))))
    // Member 3 uploaded, then vanished before unmasking: its self mask is removed with b shares.
    const unmasked = await Promise.all(members.slice(0, 3).map((m) => postUnmask(agg.url, m)))
    expect(unmasked.filter((a) => a !== null).length).toBeGreaterThanOrEqual(3)

    const status = await operatorStatus(agg.url)
    expect(status.modelVersion).toBe(1)
    expect(status.history[0]).toMatchObject({
      round: 0,
      participants: 4,
      samples: 3 + 4 + 5 + 6,
      closedBy: 'quorum',
    })
    const viewed = await viewOf(agg.url, members[0]!)
    expect(viewed.phase).toBe('done')
    // Evaluation reports of version 1: a member whose input is in the sum took part; one that dropped out
    // before uploading did not (403 not_a_participant).
    const report = (clientId: string) =>
      fetch(`${agg.url}/v1/evaluations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          ...{ round: 1, modelVersion: 1, clientId, idempotencyKey: newRandomId() },
          ...{ users: 1, hits10: 1, ndcg10: 1 },
        }),
      })
    expect((await report(members[3]!.clientId)).status).toBe(200)
    const dropped = await report(members[4]!.clientId)
    expect(dropped.status).toBe(403)
    expect(await dropped.json()).toMatchObject({ error: { code: 'not_a_participant' } })
    const secureModel = await model(agg.url)

    // The same four updates, plain, on an aggregator with the same seed: the model it publishes.
    const reference = await start(args('plain.sqlite', ['--min-clients', '4']))
    for (const u of updates.slice(0, 4)) expect((await postUpdate(reference.url, u.bytes)).status).toBe(200)
    expect((await operatorStatus(reference.url)).modelVersion).toBe(1)
    const plainModel = await model(reference.url)
    for (const name of ['item_embedding', 'item_bias']) {
      const a = secureModel.tensors.find((t) => t.name === name)!.values
      const b = plainModel.tensors.find((t) => t.name === name)!.values
      let worst = 0
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
      // Quantisation (DEFAULT_SECAGG_QUANTIZATION, scale 256): each summand's n_k·Δ is rounded by < 1/256; rows
      // ÷ touched divides a row's sum by the n_k of the clients that touched it (≥ 3 each), so a row's mean is
      // off by < 1/(256 · 3). (The earlier bound, 4/4096, held only for rows ÷ all, Σ n_k = 18: a row touched
      // by one client came out 0.00099 off in about one run in three.)
      expect(worst, name).toBeLessThan(1 / (256 * 3))
      expect(a).not.toEqual(new Float32Array(a.length)) // the model moved
    }
    // A fresh cohort forms for the next round.
    const next = await secAggState(agg.url)
    expect(next).toMatchObject({ round: 1, phase: 'advertise', members: 0 })
    expect(next.cohort).toBeGreaterThan(members[0]!.cohort)
  })

  it('secure-aggregates a model with item features: its feature rows are the plain FedAvg of the same updates', async () => {
    const { before, secureModel, plainModel } = await secureAndPlain('features', [])
    const values = (m: typeof plainModel, name: string) => m.tensors.find((t) => t.name === name)!.values
    for (const name of [ITEM_EMBEDDING, ITEM_BIAS, FEATURE_EMBEDDING, FEATURE_BIAS]) {
      const a = values(secureModel, name)
      const b = values(plainModel, name)
      expect(a.length, name).toBe(b.length)
      let worst = 0
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
      // As above: < 1/256 per summand, a row divided by the n_k (≥ 3) of the clients that touched it.
      expect(worst, name).toBeLessThan(1 / (256 * 3))
    }
    // The touched feature rows moved, the others did not.
    const moved = values(secureModel, FEATURE_BIAS).map((v, r) =>
      v === values(before, FEATURE_BIAS)[r] ? 0 : 1,
    )
    const touched = new Set(featured.flatMap((u) => Array.from(u.update.tensors[3]!.rowIds)))
    expect(Array.from(moved)).toEqual(Array.from({ length: F }, (_, r) => (touched.has(r) ? 1 : 0)))
  })

  it('secure-aggregates two shops on one aggregator (--catalogue a=…,b=…, item features) as plain FedAvg does', async () => {
    // Each shop's six products with a category both shops use; in the union table shop a's are rows 0–5 and
    // shop b's rows 6–11, so the five updates (random rows of all twelve, two feature rows each) are uploads
    // of both shops' shoppers.
    const shopFile = (shop: string) => {
      const file = inDir(`shop-${shop}.json`)
      const items = Array.from({ length: NUM_ITEMS / 2 }, (_, i) => ({
        id: `sku-${i}`,
        category: i % 2 === 0 ? 'home' : 'garden',
      }))
      writeFileSync(file, JSON.stringify(items))
      return file
    }
    const shops = ['--catalogue', `a=${shopFile('a')},b=${shopFile('b')}`]
    const { before, secureModel, plainModel } = await secureAndPlain('shops', shops)
    const ids = secureModel.itemIds
    expect(ids.slice(0, 2)).toEqual(['a:sku-0', 'a:sku-1'])
    expect(ids.slice(6, 8)).toEqual(['b:sku-0', 'b:sku-1'])
    expect(plainModel.itemIds).toEqual(ids)
    for (const name of [ITEM_EMBEDDING, ITEM_BIAS, FEATURE_EMBEDDING, FEATURE_BIAS]) {
      const a = secureModel.tensors.find((t) => t.name === name)!.values
      const b = plainModel.tensors.find((t) => t.name === name)!.values
      let worst = 0
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
      // < 1/256 per summand, divided by at least the smallest n_k (3).
      expect(worst, name).toBeLessThan(1 / (256 * 3))
    }
    // Both shops' item rows and the shared feature rows moved: the round reached every part of the table.
    const bias = (m: typeof before, name: string) => m.tensors.find((t) => t.name === name)!.values
    const moved = (name: string, rows: number[]) =>
      rows.some((r) => bias(secureModel, name)[r] !== bias(before, name)[r])
    expect([
      moved(ITEM_BIAS, [0, 1, 2, 3, 4, 5]),
      moved(ITEM_BIAS, [6, 7, 8, 9, 10, 11]),
      moved(
        FEATURE_BIAS,
        Array.from({ length: F }, (_, r) => r),
      ),
    ]).toEqual([true, true, true])
  })

  it('refuses flags that do not fit together, saying which', async () => {
    const launched = launch(secure('flags.sqlite', ['--secagg-threshold', '6']))
    expect((await launched.exited).code).toBe(1)
    expect(launched.stderr()).toMatch(/--secure-aggregation: .*threshold must not exceed minCohort/)
    const small = launch(secure('flags2.sqlite', ['--secagg-max-cohort', '4']))
    expect((await small.exited).code).toBe(1)
    expect(small.stderr()).toMatch(/minCohort must not exceed maxCohort/)
  })

  it('refuses hostile messages with clear codes and keeps the cohort as it was', async () => {
    const agg = await start(secure('hostile.sqlite'))
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${agg.url}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', ...headers },
      })
    const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

    const first = await joinCohort(agg.url)
    const state = await secAggState(agg.url)
    const join = {
      round: 0,
      modelVersion: 0,
      cohort: state.cohort,
      clientId: first.clientId,
      id: 9,
      token: first.token,
      cPublicKey: 'AAAA',
      sPublicKey: 'AAAA',
    }
    // The same client with other keys.
    let res = await post('/v1/secagg/join', join)
    expect([res.status, await code(res)]).toEqual([409, 'already_joined'])
    // A taken id.
    res = await post('/v1/secagg/join', {
      ...join,
      clientId: 'ab'.repeat(16),
      token: 'cd'.repeat(16),
      id: first.id,
    })
    expect([res.status, await code(res)]).toEqual([409, 'id_taken'])
    // A stale round, a malformed body, a huge key.
    res = await post('/v1/secagg/join', { ...join, clientId: 'ef'.repeat(16), round: 3 })
    expect([res.status, await code(res)]).toEqual([409, 'stale_round'])
    res = await post('/v1/secagg/join', { ...join, cPublicKey: 'x'.repeat(5000) })
    expect(res.status).toBe(413)
    res = await post('/v1/secagg/join', { ...join, id: 0 })
    expect([res.status, await code(res)]).toEqual([400, 'bad_message'])
    // Shares before the roster exists; an unknown token.
    res = await post(
      `/v1/secagg/cohorts/${first.cohort}/shares`,
      { seedCommitment: 'AA', shares: [] },
      { Authorization: `Bearer ${first.token}` },
    )
    expect([res.status, await code(res)]).toEqual([409, 'wrong_phase'])
    res = await post(
      `/v1/secagg/cohorts/${first.cohort}/shares`,
      { seedCommitment: 'AA', shares: [] },
      { Authorization: `Bearer ${'0'.repeat(32)}` },
    )
    expect([res.status, await code(res)]).toEqual([403, 'not_a_member'])
    expect(await secAggState(agg.url)).toMatchObject({ phase: 'advertise', members: 1 })

    const members = [first]
    for (let i = 0; i < 4; i++) members.push(await joinCohort(agg.url))
    await waitForPhase(agg.url, first, 'share')
    // Shares for a recipient that is not in the roster.
    const view = await viewOf(agg.url, first)
    const { seedCommitment, shares } = await first.client.shareKeys({
      type: 'roster',
      sessionId: first.sessionId,
      threshold: view.threshold,
      clients: view.roster!,
    })
    const auth = { Authorization: `Bearer ${first.token}` }
    const wrong = shares.map((s, i) => (i === 0 ? { ...s, to: 65_000 === s.to ? 64_999 : 65_000 } : s))
    res = await post(`/v1/secagg/cohorts/${first.cohort}/shares`, { seedCommitment, shares: wrong }, auth)
    expect([res.status, await code(res)]).toEqual([400, 'bad_secagg_message'])
    expect((await viewOf(agg.url, first)).shared).toBe(false)
    res = await post(`/v1/secagg/cohorts/${first.cohort}/shares`, { seedCommitment, shares }, auth)
    expect(res.status).toBe(200)
    // The same shares again: a duplicate; other shares: refused.
    res = await post(`/v1/secagg/cohorts/${first.cohort}/shares`, { seedCommitment, shares }, auth)
    expect(await res.json()).toMatchObject({ duplicate: true })
    res = await post(
      `/v1/secagg/cohorts/${first.cohort}/shares`,
      { seedCommitment, shares: shares.slice(1) },
      auth,
    )
    expect([res.status, await code(res)]).toEqual([409, 'already_sent'])
    await Promise.all(members.slice(1).map((m) => postShares(agg.url, m)))

    // A masked input of the wrong size, then a second, different one.
    const body = await maskedBody(agg.url, first, vectorOf(0))
    res = await postMaskedBytes(agg.url, first, body.slice(4))
    expect([res.status, await code(res)]).toEqual([400, 'bad_secagg_message'])
    expect((await postMaskedBytes(agg.url, first, body)).status).toBe(200)
    const again = await postMaskedBytes(agg.url, first, body)
    expect(await again.json()).toMatchObject({ duplicate: true })
    const other = body.slice()
    other[0] = other[0]! ^ 1
    res = await postMaskedBytes(agg.url, first, other)
    expect([res.status, await code(res)]).toEqual([409, 'already_sent'])
    expect((await viewOf(agg.url, first)).phase).toBe('mask')
  })

  it('aborts a cohort left with too few survivors and opens a fresh one for the same round', async () => {
    const agg = await start(secure('few.sqlite', ['--secagg-phase-timeout', '1.5']))
    const members: TestMember[] = []
    for (let i = 0; i < 5; i++) members.push(await joinCohort(agg.url))
    await Promise.all(members.map((m) => postShares(agg.url, m)))
    // Only two of five upload; t = 3.
    await Promise.all(members.slice(0, 2).map((m, i) => postMasked(agg.url, m, vectorOf(i))))
    const ended = await waitForPhase(agg.url, members[0]!, 'aborted', 10_000)
    expect(ended.phase).toBe('aborted')
    expect(ended.abortReason).toMatch(/survivor|fewer|too few/i)
    const fresh = await secAggState(agg.url)
    expect(fresh).toMatchObject({ round: 0, phase: 'advertise', members: 0 })
    expect(fresh.cohort).toBe(members[0]!.cohort + 1)
    expect((await operatorStatus(agg.url)).modelVersion).toBe(0)
    // An old member's post to the aborted cohort is refused as ended.
    const res = await postMaskedBytes(agg.url, members[3]!, new Uint8Array(4))
    expect(res.status).toBe(409)
  })

  it('an operator reset of the round aborts its running cohort: its masked inputs never count', async () => {
    const agg = await start(secure('reset.sqlite', ['--operator-token', 'op-token-123']))
    const members: TestMember[] = []
    for (let i = 0; i < 5; i++) members.push(await joinCohort(agg.url))
    await Promise.all(members.map((m) => postShares(agg.url, m)))
    const res = await fetch(`${agg.url}/v1/round/reset`, {
      method: 'POST',
      headers: { Authorization: 'Bearer op-token-123' },
    })
    expect(res.status).toBe(200)
    const ended = await viewOf(agg.url, members[0]!)
    expect(ended).toMatchObject({ phase: 'aborted', abortReason: 'the operator reset the round' })
    expect(await secAggState(agg.url)).toMatchObject({ round: 0, phase: 'advertise', members: 0 })
    const late = await postMaskedBytes(agg.url, members[0]!, new Uint8Array(4))
    expect(late.status).toBe(409)
  })

  it('resumes a cohort after a crash mid-phase: the members carry on and the round closes', async () => {
    const first = await start(secure('crash.sqlite', ['--secagg-phase-timeout', '30']))
    const members: TestMember[] = []
    for (let i = 0; i < 5; i++) members.push(await joinCohort(first.url))
    await Promise.all(members.map((m) => postShares(first.url, m)))
    await Promise.all(members.slice(0, 2).map((m, i) => postMasked(first.url, m, vectorOf(i))))
    await stop(first, 'SIGKILL')

    const port = new URL(first.url).port
    const again = await start([...secure('crash.sqlite', ['--secagg-phase-timeout', '30']), '--port', port])
    expect(await secAggState(again.url)).toMatchObject({
      cohort: members[0]!.cohort,
      phase: 'mask',
      members: 5,
    })
    await Promise.all(members.slice(2).map((m, i) => postMasked(again.url, m, vectorOf(i + 2))))
    await Promise.all(members.map((m) => postUnmask(again.url, m)))
    const status = await operatorStatus(again.url)
    expect(status.modelVersion).toBe(1)
    expect(status.history[0]).toMatchObject({ participants: 5, samples: 3 + 4 + 5 + 6 + 7 })
  })
})
