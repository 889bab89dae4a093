import { describe, expect, it } from 'vitest'
import { renderChart } from './chart.ts'
import { useNodeBackend } from './node-backend.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { simulate } from './simulate.ts'
import { tasteGroupsFile } from './test-data.ts'

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
    for (const name of ['federated HR@10', 'centralized NDCG@10', 'popularity HR@10'])
      expect(svg).toContain(name)
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
