// DP-FedAvg in the in-process simulation: the same core accumulator as the aggregator, ε per round.
import { createRdpAccountant } from '@fedrec/core/server'
import { describe, expect, it } from 'vitest'
import { useNodeBackend } from './node-backend.ts'
import { DEFAULTS, type SimulationOptions } from './options.ts'
import { simulate } from './simulate.ts'
import { tasteGroupsFile } from './test-data.ts'

const { tf, backend } = await useNodeBackend()
const path = tasteGroupsFile({ users: 32, groups: 4, itemsPerGroup: 8, perUser: 6, seed: 5 })

const options: SimulationOptions = {
  ...DEFAULTS,
  dataset: 'generic',
  path,
  rounds: 3,
  clientsPerRound: 16,
  rowNormalization: 'all',
  centralEpochs: 2,
  dim: 4,
  endpoint: undefined,
}

describe('simulate with DP-FedAvg', () => {
  it('reports ε after every round as the accountant composes it, and clips every upload to S', async () => {
    const run = await simulate(tf, backend, {
      ...options,
      dpNoiseMultiplier: 2,
      dpClipNorm: 0.05,
      dpDelta: 1e-4,
    })
    const reference = createRdpAccountant()
    const epsilons = run.federated.rounds.map((r) => {
      reference.compose({ sampleRate: 16 / 32, noiseMultiplier: 2 })
      expect(r.epsilon).toBeCloseTo(reference.epsilon(1e-4), 12)
      expect(r.clientNorm!.p90).toBeLessThanOrEqual(0.05 * (1 + 1e-6))
      return r.epsilon!
    })
    expect(epsilons[2]!).toBeGreaterThan(epsilons[0]!)
  })

  it('is noisy: two runs of the same seed differ (without DP they are identical), and it refuses touched rows', async () => {
    const dp = { ...options, rounds: 1, dpNoiseMultiplier: 1, dpClipNorm: 0.5 }
    const [a, b] = [await simulate(tf, backend, dp), await simulate(tf, backend, dp)]
    // The clients train the same (same seed, same model): only the server's secure noise differs.
    expect(a.federated.rounds[0]!.loss).toBe(b.federated.rounds[0]!.loss)
    expect(a.federated.rounds[0]!.updateNorm).not.toBe(b.federated.rounds[0]!.updateNorm)
    const plain = { ...options, rounds: 1 }
    const [c, d] = [await simulate(tf, backend, plain), await simulate(tf, backend, plain)]
    expect(c.federated.rounds[0]!.updateNorm).toBe(d.federated.rounds[0]!.updateNorm)
    expect(c.federated.rounds[0]!.epsilon).toBeUndefined()
    await expect(simulate(tf, backend, { ...dp, rowNormalization: 'touched' })).rejects.toThrow(
      /rowNormalization 'all'/,
    )
  })
})
