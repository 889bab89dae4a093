// One client's influence on the model, against a real aggregator process with its default settings: the
// attack of issue 15 (two honest shoppers, one attacker pushing one item's bias by +1000 under a huge n_k).
import { writeFileSync } from 'node:fs'
import { decodeModel, encodeUpdate, ITEM_BIAS, newRandomId, parseErrorBody } from '@fedrec/protocol'
import { describe, expect, it } from 'vitest'
import { operatorStatus, postUpdate, type Running, start, useScratchDir } from './test-process.ts'
import { catalogueOf, makeUpdate, type Rows } from './test-support.ts'

const NUM_ITEMS = 100
const DIM = 4
const TARGET = 57

const inDir = useScratchDir('fedrec-influence-')

/** The default settings but for the quorum and what keeps a test quick (no rate limits). */
function launchArgs(...extra: string[]): string[] {
  const catalogue = inDir('catalogue.json')
  writeFileSync(catalogue, JSON.stringify(catalogueOf(NUM_ITEMS)))
  return [
    ...['--port', '0', '--store', inDir('s.sqlite'), '--init', '--catalogue', catalogue],
    ...['--dim', String(DIM), '--seed', '9', '--client-rate', '0', '--ip-rate', '0', ...extra],
  ]
}

/** An honest-looking shopper: 10 rows (positives and negatives), n_k = 40 = 10 positives × 4 negatives. */
function honest(seed: number) {
  const rows = Array.from({ length: 10 }, (_, i) => (seed * 10 + i) % NUM_ITEMS).filter((r) => r !== TARGET)
  return makeUpdate({
    round: 0,
    modelVersion: 0,
    sampleCount: 40,
    dim: DIM,
    embedding: rows.map((r) => [r, [0.05, -0.05, 0.05, -0.05]] as const),
    bias: rows.map((r) => [r, [0.1]] as const),
  })
}

const attack = (sampleCount: number, bias: Rows = [[TARGET, [1000]]]) =>
  makeUpdate({ round: 0, modelVersion: 0, sampleCount, dim: DIM, bias })

async function biases(server: Running): Promise<Float32Array> {
  const bytes = new Uint8Array(await (await fetch(`${server.url}/v1/model`)).arrayBuffer())
  return decodeModel(bytes).tensors.find((t) => t.name === ITEM_BIAS)!.values
}

async function accept(server: Running, bytes: Uint8Array): Promise<void> {
  const res = await postUpdate(server.url, bytes)
  expect(res.status, await res.clone().text()).toBe(200)
}

async function refuse(server: Running, bytes: Uint8Array, code: string): Promise<string> {
  const res = await postUpdate(server.url, bytes)
  expect(res.status).toBe(400)
  const body = parseErrorBody(await res.json())
  expect(body.error.code).toBe(code)
  return body.error.message
}

describe("bounding one client's influence (default settings)", () => {
  it('refuses a sample count the rows of the update cannot come from, and counts nothing of it', async () => {
    const server = await start(launchArgs('--min-clients', '3'))
    await accept(server, honest(1).bytes)
    await accept(server, honest(2).bytes)
    // One row justifies at most 4 pairs (negatives per positive): 100,000 is a claim to 99.9 % of the weight.
    const message = await refuse(server, attack(100_000).bytes, 'sample_count_too_large')
    expect(message).toMatch(/the 1 rows of the update .*at most 4 pairs per row/)
    await refuse(server, attack(5).bytes, 'sample_count_too_large')
    const status = await operatorStatus(server.url)
    expect(status).toMatchObject({ round: 0, participants: 2, samples: 80 })
    expect(status.rejections).toEqual({ sample_count_too_large: 2 })
  })

  it('caps what the attack can do once it claims what one row justifies: the default norm bound clips it', async () => {
    // Rows ÷ all, so the attacker's share of the row is its share of the samples. Rows ÷ touched without the
    // item-row floor gives a row only the attacker touched its whole clipped delta (500): see the next test.
    const server = await start(launchArgs('--min-clients', '3', '--row-normalization', 'all'))
    const before = await biases(server)
    await accept(server, honest(1).bytes)
    await accept(server, honest(2).bytes)
    await accept(server, attack(4).bytes)
    const after = await biases(server)
    // FedAvg with rows ÷ all: the attacker's share is 4 / (40 + 40 + 4), and its +1000 is clipped to the
    // default bound 500, so the target moves by 500 · 4/84 = 23.81 instead of 1000 · 4/84 = 47.6 (or 999.2
    // with n_k = 100,000 as in the issue).
    expect(after[TARGET]! - before[TARGET]!).toBeCloseTo((500 * 4) / 84, 3)
    const status = await operatorStatus(server.url)
    expect(status.history[0]).toMatchObject({ participants: 3, clipped: 1 })
  })

  it('with rows ÷ touched, a row only the attacker touched takes its whole clipped delta in an id-only model; the item-row floor shares it', async () => {
    let servers = 0
    const moved = async (...flags: string[]) => {
      // One store each (the last --store wins).
      const store = inDir(`floor-${++servers}.sqlite`)
      const server = await start(launchArgs('--min-clients', '3', ...flags, '--store', store))
      const before = await biases(server)
      await accept(server, honest(1).bytes)
      await accept(server, honest(2).bytes)
      await accept(server, attack(4).bytes)
      return (await biases(server))[TARGET]! - before[TARGET]!
    }
    // The honest shoppers never touched the target. Id-only (no floor by default): divided by the attacker's
    // samples alone.
    expect(await moved()).toBeCloseTo(500, 3)
    // With item features the default floor is 50 mean clients, above the quorum of 3: the target is divided by
    // all 84 samples, as with rows ÷ all.
    expect(await moved('--item-features')).toBeCloseTo((500 * 4) / 84, 3)
    // A floor of 1.5 mean clients (1.5 · 84/3 = 42 samples) sits between the two: 500 · 4/42.
    expect(await moved('--item-row-floor', '1.5')).toBeCloseTo((500 * 4) / 42, 3)
  })

  it('refuses an update that carries no row: it would count towards the quorum and teach nothing', async () => {
    const server = await start(launchArgs('--min-clients', '2'))
    await accept(server, honest(1).bytes)
    const noTensor = encodeUpdate({
      round: 0,
      modelVersion: 0,
      clientId: newRandomId(),
      idempotencyKey: newRandomId(),
      sampleCount: 1,
      tensors: [],
    })
    await refuse(server, noTensor, 'empty_update')
    const noRow = makeUpdate({ round: 0, modelVersion: 0, sampleCount: 1, dim: DIM, bias: [] })
    await refuse(server, noRow.bytes, 'empty_update')
    const status = await operatorStatus(server.url)
    expect(status).toMatchObject({ round: 0, participants: 1, samples: 40 })
  })

  it('--max-row-norm bounds what one client does to one item, whatever the rest of its update', async () => {
    const server = await start(
      launchArgs('--min-clients', '3', '--max-row-norm', '0.5', '--row-normalization', 'all'),
    )
    const before = await biases(server)
    await accept(server, honest(1).bytes)
    await accept(server, honest(2).bytes)
    // The attacker touches 100 rows to justify the largest n_k it can (400), pushes the target up and
    // every other item down.
    const rows: [number, number[]][] = Array.from({ length: NUM_ITEMS }, (_, r) => [
      r,
      [r === TARGET ? 1000 : -1000],
    ])
    await accept(server, attack(400, rows).bytes)
    const after = await biases(server)
    // Each row is clipped to 0.5 first: the target moves by at most 0.5 · 400/480.
    expect(after[TARGET]! - before[TARGET]!).toBeCloseTo((0.5 * 400) / 480, 4)
  })
})
