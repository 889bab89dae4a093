import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_STORE, parseCommandLine } from './config.ts'

const argv = (...args: string[]) => ['node', 'cli.ts', ...args]

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('parseCommandLine', () => {
  it('has the documented defaults', () => {
    const o = parseCommandLine(argv())
    expect(o).toMatchObject({
      host: '127.0.0.1',
      port: 8787,
      store: DEFAULT_STORE,
      catalogueFile: undefined,
      dim: undefined,
      seed: undefined,
      minClients: 3,
      roundDeadlineSeconds: 300,
      mu: 0,
      localEpochs: 5,
      learningRate: 0.1,
      negativesPerPositive: 4,
      batchSize: 256,
      maxSampleCount: 100_000,
      serverOptimizer: 'fedavg',
      serverLearningRate: undefined,
      rowNormalization: 'all',
      corsOrigins: ['*'],
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      operatorTokenGenerated: true,
    })
    expect(o.operatorToken.length).toBeGreaterThanOrEqual(32)
  })

  it('takes flags over FEDREC_* variables over defaults', () => {
    vi.stubEnv('FEDREC_PORT', '9000')
    vi.stubEnv('FEDREC_MIN_CLIENTS', '5')
    vi.stubEnv('FEDREC_OPERATOR_TOKEN', 'from-env')
    vi.stubEnv('FEDREC_CORS_ORIGIN', 'https://a.example, https://b.example')
    const o = parseCommandLine(
      argv('--port', '0', '--dim', '16', '--server-optimizer', 'fedyogi', '--round-deadline', '0.5'),
    )
    expect(o).toMatchObject({
      port: 0,
      minClients: 5,
      dim: 16,
      serverOptimizer: 'fedyogi',
      roundDeadlineSeconds: 0.5,
      operatorToken: 'from-env',
      operatorTokenGenerated: false,
      corsOrigins: ['https://a.example', 'https://b.example'],
    })
  })
})
