import { describe, expect, it } from 'vitest'

// The page's own module, plain JavaScript checked by its own tsconfig (client/); this package's tsconfig does
// not read JS, so the little the test needs is typed here.
interface DataModule {
  parseDashboardData(input: unknown): { history: Array<{ epsilon?: number }>; privacy?: unknown }
  privacySummary(p: unknown): { value: string; note: string }
}
const { parseDashboardData, privacySummary }: DataModule = await import(
  new URL('./client/data.js', import.meta.url).href
)

const status = (extra: Record<string, unknown>, round: Record<string, unknown> = {}) => ({
  status: {
    round: 1,
    modelVersion: 1,
    participants: 0,
    samples: 0,
    numItems: 3,
    dim: 2,
    modelBytes: 10,
    serverOptimizer: 'fedavg',
    config: { minClients: 1, deadline: '2030-01-01T00:00:00.000Z' },
    history: [
      {
        round: 0,
        modelVersion: 0,
        participants: 1,
        samples: 1,
        openedAt: '2030-01-01T00:00:00.000Z',
        closedAt: '2030-01-01T00:00:01.000Z',
        closedBy: 'quorum',
        updateNorm: 0.1,
        clientUpdateNorm: { mean: 0.1, max: 0.1 },
        ...round,
      },
    ],
    rejections: {},
    evaluations: [],
    ...extra,
  },
})

const account = {
  mechanism: 'gaussian',
  noiseMultiplier: 1,
  clipNorm: 0.5,
  delta: 1e-5,
  sampleRate: 1,
  epsilon: 3.25,
  rounds: 1,
  unprotectedRounds: 0,
}

describe('the dashboard reads the privacy account', () => {
  it('keeps ε per round and the account, and says what the card shows', () => {
    const s = parseDashboardData(status({ privacy: account }, { epsilon: 3.25 }))
    expect(s.history[0]!.epsilon).toBe(3.25)
    expect(s.privacy).toEqual(account)
    expect(privacySummary(s.privacy)).toEqual({ value: 'ε 3.25', note: '(δ 1e-5, 1 DP rounds)' })
  })

  it('says DP is off for an aggregator without it (or one from before DP), and names unprotected rounds', () => {
    expect(privacySummary(parseDashboardData(status({})).privacy)).toEqual({ value: 'off', note: '(no DP)' })
    const off = { ...account, mechanism: 'none', unprotectedRounds: 2 }
    expect(privacySummary(parseDashboardData(status({ privacy: off })).privacy).note).toBe(
      '(δ 1e-5, 1 DP rounds, 2 rounds without DP, DP now off)',
    )
  })

  it('refuses a malformed account, naming the field', () => {
    expect(() => parseDashboardData(status({ privacy: { ...account, epsilon: 'big' } }))).toThrow(
      /status\.privacy\.epsilon/,
    )
    expect(() => parseDashboardData(status({}, { epsilon: -Infinity }))).toThrow(/history\.0\.epsilon/)
  })
})
