// DP-FedAvg against the real CLI process: noise really added, ε rising every round, the account surviving a
// SIGKILL, and operator changes composed as they ran.
import { writeFileSync } from 'node:fs'
import { createRdpAccountant } from '@fedrec/core/server'
import { decodeModel, ITEM_BIAS, ITEM_EMBEDDING, parseRoundInfo, type Status } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import {
  getJson,
  launch,
  operatorStatus,
  postUpdate,
  type Running,
  start,
  useScratchDir,
} from './test-process.ts'
import { catalogueOf, makeUpdate } from './test-support.ts'

const inDir = useScratchDir('fedrec-dp-')
const TOKEN = 'dp-operator-token-0123456789'
const NUM_ITEMS = 300
const DIM = 8

function args(store: string, extra: string[] = []): string[] {
  const catalogue = inDir('catalogue.json')
  writeFileSync(catalogue, JSON.stringify(catalogueOf(NUM_ITEMS).map((id) => ({ id, name: id }))))
  return [
    ...['--port', '0', '--store', store, '--catalogue', catalogue, '--dim', String(DIM), '--seed', '5'],
    ...['--round-deadline', '600', '--client-rate', '0', '--ip-rate', '0', '--operator-token', TOKEN],
    ...extra,
  ]
}

const status = async (server: Running): Promise<Status> => await operatorStatus(server.url, TOKEN)

async function model(server: Running) {
  const decoded = decodeModel(new Uint8Array(await (await fetch(`${server.url}/v1/model`)).arrayBuffer()))
  const tensor = (name: string) => decoded.tensors.find((t) => t.name === name)!.values
  return { version: decoded.modelVersion, embedding: tensor(ITEM_EMBEDDING), bias: tensor(ITEM_BIAS) }
}

/** One small update (norm 0.3, within S) for `row`, on the server's current round. */
async function send(server: Running, row: number): Promise<void> {
  const info = parseRoundInfo(await getJson(`${server.url}/v1/round`))
  const values = Array.from({ length: DIM }, (_, i) => (i === 0 ? 0.3 : 0))
  const { bytes } = makeUpdate({
    round: info.round,
    modelVersion: info.modelVersion,
    sampleCount: 4,
    dim: DIM,
    embedding: [[row, values]],
  })
  const res = await postUpdate(server.url, bytes)
  expect(res.status).toBe(200)
}

async function patch(server: Running, body: object): Promise<Response> {
  return fetch(`${server.url}/v1/config`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('DP-FedAvg in the aggregator', () => {
  it('adds noise of σS/denominator to every coordinate of the published model, untouched rows included', async () => {
    const sigma = 1
    const clip = 0.5
    const minClients = 2
    const server = await start(
      args(inDir('noise.sqlite'), [
        ...['--init', '--min-clients', String(minClients)],
        ...['--dp-noise-multiplier', String(sigma), '--dp-clip-norm', String(clip)],
      ]),
    )
    const info = parseRoundInfo(await getJson(`${server.url}/v1/round`))
    expect(info.config.clipNorm).toBe(clip)
    const before = await model(server)
    await send(server, 3)
    await send(server, 4)
    const after = await model(server)
    expect(after.version).toBe(1)
    // The noise-free FedAvg step (server η 1, uniform weights, fixed denominator): +0.3/2 at (row, col 0).
    const residuals: number[] = []
    for (let i = 0; i < after.embedding.length; i++) {
      const expected = i === 3 * DIM || i === 4 * DIM ? 0.3 / minClients : 0
      residuals.push(after.embedding[i]! - before.embedding[i]! - expected)
    }
    for (let i = 0; i < after.bias.length; i++) residuals.push(after.bias[i]! - before.bias[i]!)
    const rms = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / residuals.length)
    // 2,700 coordinates estimate the stddev 0.25 to about ±1.4 %; a generous ±20 % still tells noise from none.
    const expectedStd = (sigma * clip) / minClients
    expect(rms).toBeGreaterThan(0.8 * expectedStd)
    expect(rms).toBeLessThan(1.2 * expectedStd)
    // Every row moved, touched or not: which rows were touched is itself private.
    const untouchedMoved = residuals.filter((r) => r !== 0).length
    expect(untouchedMoved).toBe(residuals.length)
    const s = await status(server)
    expect(s.privacy).toMatchObject({
      mechanism: 'gaussian',
      noiseMultiplier: sigma,
      clipNorm: clip,
      rounds: 1,
    })
    expect(s.privacy!.epsilon).toBeGreaterThan(0)
    expect(s.history[0]!.epsilon).toBe(s.privacy!.epsilon)
  })

  it('without the flag the published model is the exact aggregate and no ε is claimed', async () => {
    // The counterpart of the test above: if DP were silently off, that one would see rms 0 and fail.
    const server = await start(args(inDir('plain.sqlite'), ['--init', '--min-clients', '2']))
    expect(parseRoundInfo(await getJson(`${server.url}/v1/round`)).config.clipNorm).toBeUndefined()
    const before = await model(server)
    await send(server, 3)
    await send(server, 4)
    const after = await model(server)
    let moved = 0
    for (let i = 0; i < after.embedding.length; i++)
      if (after.embedding[i] !== before.embedding[i]) moved += 1
    expect(moved).toBe(2)
    const s = await status(server)
    expect(s.privacy).toMatchObject({ mechanism: 'none', epsilon: 0, rounds: 0, unprotectedRounds: 1 })
    expect(s.history[0]!.epsilon).toBeUndefined()
  })

  it('ε rises every round, survives a SIGKILL, and composes rounds of different σ and q as they ran', async () => {
    const store = inDir('account.sqlite')
    const dpArgs = ['--min-clients', '2', '--dp-noise-multiplier', '1.5', '--dp-clip-norm', '0.5']
    let server = await start(args(store, ['--init', ...dpArgs]))
    const epsilons: number[] = []
    for (let r = 0; r < 3; r++) {
      await send(server, 2 * r)
      await send(server, 2 * r + 1)
      epsilons.push((await status(server)).privacy!.epsilon!)
    }
    expect(epsilons[1]!).toBeGreaterThan(epsilons[0]!)
    expect(epsilons[2]!).toBeGreaterThan(epsilons[1]!)
    // One update of round 3 is durable when the process dies.
    await send(server, 10)
    server.child.kill('SIGKILL')
    await server.exited

    server = await start(args(store, dpArgs))
    let s = await status(server)
    expect(s.privacy).toMatchObject({ rounds: 3, epsilon: epsilons[2] })
    expect(s.history.map((h) => h.epsilon)).toEqual(epsilons)
    expect(s.participants).toBe(1)

    // The operator lowers the noise and declares a population mid-round: round 3 closes under them.
    const res = await patch(server, { dpNoiseMultiplier: 0.8, dpPopulation: 100 })
    expect(res.status).toBe(200)
    await send(server, 11)
    s = await status(server)
    const reference = createRdpAccountant()
    reference.compose({ sampleRate: 1, noiseMultiplier: 1.5 }, 3)
    reference.compose({ sampleRate: 2 / 100, noiseMultiplier: 0.8 })
    expect(s.privacy).toMatchObject({ rounds: 4, noiseMultiplier: 0.8, sampleRate: 0.02 })
    expect(s.privacy!.epsilon).toBeCloseTo(reference.epsilon(1e-5), 10)
    expect(s.privacy!.epsilon).toBeGreaterThan(epsilons[2]!)

    // A new δ re-reports the whole history at it; turning DP off leaves ε as it was and counts the round
    // that then publishes without DP as unprotected.
    expect((await patch(server, { dpDelta: 1e-8 })).status).toBe(200)
    s = await status(server)
    expect(s.privacy!.epsilon).toBeCloseTo(reference.epsilon(1e-8), 10)
    expect((await patch(server, { dpNoiseMultiplier: null })).status).toBe(200)
    await send(server, 12)
    await send(server, 13)
    s = await status(server)
    expect(s.privacy).toMatchObject({ mechanism: 'none', rounds: 4, unprotectedRounds: 1 })
    expect(s.privacy!.epsilon).toBeCloseTo(reference.epsilon(1e-8), 10)
  })

  it('clips an update its client did not clip, and refuses bad DP settings', async () => {
    const server = await start(
      args(inDir('clip.sqlite'), [
        '--init',
        '--min-clients',
        '1',
        '--dp-noise-multiplier',
        '1',
        '--dp-clip-norm',
        '0.5',
      ]),
    )
    const { bytes } = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 3, dim: DIM, bias: [[1, [10]]] })
    expect((await postUpdate(server.url, bytes)).status).toBe(200)
    const s = await status(server)
    expect(s.history[0]).toMatchObject({ clipped: 1, clientUpdateNorm: { max: 0.5 } })
    for (const body of [
      { dpNoiseMultiplier: 0 },
      { dpDelta: 1 },
      { dpPopulation: 2.5 },
      { dpClipNorm: -1 },
    ]) {
      const res = await patch(server, body)
      expect(res.status).toBe(400)
    }
  })
})

describe('DP-FedAvg start-up', () => {
  it('refuses DP with --row-normalization touched', async () => {
    const launched = launch(
      args(inDir('touched.sqlite'), [
        '--init',
        '--dp-noise-multiplier',
        '1',
        '--row-normalization',
        'touched',
      ]),
    )
    const exit = await launched.exited
    expect(exit.code).not.toBe(0)
    expect(launched.stderr()).toMatch(/row-normalization all/)
  })

  it('refuses DP with --secure-aggregation (the masked sum is weighted by n_k, so the clip norm is not its sensitivity)', async () => {
    const launched = launch(
      args(inDir('secure.sqlite'), ['--init', '--dp-noise-multiplier', '1', '--secure-aggregation']),
    )
    const exit = await launched.exited
    expect(exit.code).not.toBe(0)
    expect(launched.stderr()).toMatch(/secure aggregation cannot be combined/)
  })
})
