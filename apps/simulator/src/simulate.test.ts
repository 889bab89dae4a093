import { describe, expect, it } from 'vitest'
import { renderChart } from './chart.ts'
import { useNodeBackend } from './node-backend.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { noiseWarnings, simulate } from './simulate.ts'
import { groupSessionsFile, tasteGroupsFile } from './test-data.ts'

const { tf, backend } = await useNodeBackend()
const path = tasteGroupsFile({ users: 48, groups: 4, itemsPerGroup: 12, perUser: 8, seed: 3 })

const options: SimulationOptions = {
  ...DEFAULTS,
  dataset: 'generic',
  path,
  rounds: 6,
  clientsPerRound: 'all',
  centralEpochs: 20,
  centralLearningRate: 0.05,
  dim: 8,
  endpoint: undefined,
}

describe('simulate (in-process)', () => {
  it('learns the taste groups: federated ends clearly above popularity, and the same seed gives the same numbers', async () => {
    const one = await simulate(tf, backend, options)
    expect(one.dataset).toMatchObject({ users: 48, items: 48, evalUsers: 48, interactions: 384 })
    expect(one.federated.rounds).toHaveLength(6)
    // Every item is about equally popular here, so popularity is near chance (10 of 41 candidates).
    expect(one.popularity.hr10).toBeLessThan(0.45)
    expect(one.federated.hr10).toBeGreaterThan(one.popularity.hr10 + 0.3)
    expect(one.centralized.hr10).toBeGreaterThan(one.popularity.hr10 + 0.3)
    expect(one.federated.rounds.every((r) => r.participants === 48 && r.samples > 0)).toBe(true)
    expect(one.timing.shopperUpdates).toBe(6 * 48)

    const two = await simulate(tf, backend, options)
    expect(two.federated.rounds.map((r) => [r.hr10, r.ndcg10, r.loss, r.samples])).toEqual(
      one.federated.rounds.map((r) => [r.hr10, r.ndcg10, r.loss, r.samples]),
    )
    expect(two.centralized).toEqual(one.centralized)
    expect(two.federated.recall20).toBe(one.federated.recall20)

    // A different seed really is a different run.
    const other = await simulate(tf, backend, { ...options, seed: 2, rounds: 1 })
    expect(other.federated.rounds[0]!.loss).not.toBe(one.federated.rounds[0]!.loss)

    const svg = renderChart(one)
    expect(svg.startsWith('<svg')).toBe(true)
    for (const name of [
      'federated HR@10',
      'centralized NDCG@10',
      'popularity HR@10',
      'co-occurrence HR@10',
      'random HR@10',
    ])
      expect(svg).toContain(name)
  })

  it('learns short sessions with a next-item structure: above popularity, random and the order-blind model', async () => {
    const sessions = groupSessionsFile({
      users: 240,
      groups: 8,
      itemsPerGroup: 6,
      first: 3,
      second: 3,
      seed: 5,
    })
    const run = (recency: number) =>
      simulate(tf, backend, { ...options, path: sessions, rounds: 8, dim: 16, learningRate: 0.2, recency })
    const res = await run(DEFAULTS.recency)
    // 240 sessions of 6 distinct items; the last two new items are held out.
    expect(res.dataset).toMatchObject({ users: 240, evalUsers: 240, items: 48 })
    // Chance with 42 unseen candidates of which the test item is one: HR@10 ≈ 10/42.
    expect(res.random.hr10).toBeLessThan(0.35)
    expect(res.popularity.hr10).toBeLessThan(0.4)
    // Measured: random 0.25, popularity 0.24 (Recall@20 0.42), co-occurrence 0.98, centralized 1.00,
    // federated 0.93 (Recall@20 0.99); the same federated run blind to order (recency 1) 0.76.
    expect(res.federated.hr10).toBeGreaterThan(res.popularity.hr10 + 0.4)
    expect(res.federated.recall20).toBeGreaterThan(1.5 * res.popularity.recall20)
    expect(res.centralized.hr10).toBeGreaterThan(res.popularity.hr10 + 0.4)
    expect(res.cooccurrence.hr10).toBeGreaterThan(res.popularity.hr10)
    expect(res.targets.federatedAtLeast125Popularity).toBe(true)
    expect(res.warnings).toEqual([])
    const blind = await run(1)
    expect(res.federated.hr10).toBeGreaterThan(blind.federated.hr10 + 0.1)
    // Rounds are 1-based in the JSON as in the table.
    expect(res.federated.rounds.map((r) => r.round)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('warns when a model is within noise of random or popularity', () => {
    const m = (hr10: number) => ({ hr10, ndcg10: 0 })
    expect(noiseWarnings(400, { federated: m(0.5) }, { random: m(0.1), popularity: m(0.3) })).toEqual([])
    const close = noiseWarnings(400, { federated: m(0.31) }, { random: m(0.1), popularity: m(0.3) })
    expect(close).toHaveLength(1)
    expect(close[0]).toMatch(
      /federated HR@10 0.3100 is within noise of popularity 0.3000 \(±0.046\d at 400 shoppers\)/,
    )
  })

  it('refuses settings that cannot work', async () => {
    await expect(simulate(tf, backend, { ...options, rounds: 0 })).rejects.toThrow(
      /rounds must be an integer >= 1/,
    )
    for (const endpoint of ['localhost:8787', 'not a url'])
      await expect(simulate(tf, backend, { ...options, endpoint })).rejects.toThrow(
        /endpoint must be an http\(s\) URL/,
      )
  })
})
