import { DEFAULT_FEATURE_ROWS } from '@fedrec/core/server'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCommand, DEFAULT_MAX_BODY_BYTES, DEFAULT_STORE, parseCommandLine } from './cli-command.ts'

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
      localEpochs: 2,
      learningRate: 0.2,
      negativesPerPositive: 4,
      batchSize: 256,
      maxSampleCount: 100_000,
      padRatio: 0,
      updateDtype: 'f16',
      // One shopper per report: an unauthenticated report must not outweigh the others.
      maxEvaluationUsers: 1,
      serverOptimizer: 'fedavg',
      serverLearningRate: undefined,
      // Not given: 'touched', or 'all' when DP is on (resolved by createAggregator).
      rowNormalization: undefined,
      // Not given: 50 with item features, 0 without (resolved with the model).
      itemRowFloor: undefined,
      corsOrigins: ['*'],
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      operatorTokenGenerated: true,
      // The default store is a checkout's: created on first use.
      createStore: true,
      maxUpdateNorm: 500,
      normPolicy: 'clip',
      ackRetentionSeconds: 86_400,
      modelLogVersions: 32,
      clientRatePerMinute: 12,
      ipRatePerMinute: 600,
    })
    expect(o.operatorToken.length).toBeGreaterThanOrEqual(32)
  })

  it('reads how clients send deltas from --update-dtype or FEDREC_UPDATE_DTYPE', () => {
    expect(parseCommandLine(argv('--update-dtype', 'f32')).updateDtype).toBe('f32')
    vi.stubEnv('FEDREC_UPDATE_DTYPE', 'f32')
    expect(parseCommandLine(argv()).updateDtype).toBe('f32')
    expect(() =>
      createCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parse(argv('--update-dtype', 'f8')),
    ).toThrow(/f16, f32/)
  })

  it('reads the row padding from --pad-ratio or FEDREC_PAD_RATIO and refuses a negative one', () => {
    expect(parseCommandLine(argv('--pad-ratio', '2')).padRatio).toBe(2)
    vi.stubEnv('FEDREC_PAD_RATIO', '1.5')
    expect(parseCommandLine(argv()).padRatio).toBe(1.5)
    expect(() =>
      createCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parse(argv('--pad-ratio', '-1')),
    ).toThrow(/expected a number ≥ 0/)
  })

  it('reads the item-row floor from --item-row-floor or FEDREC_ITEM_ROW_FLOOR and refuses a negative one', () => {
    expect(parseCommandLine(argv('--item-row-floor', '0')).itemRowFloor).toBe(0)
    vi.stubEnv('FEDREC_ITEM_ROW_FLOOR', '12.5')
    expect(parseCommandLine(argv()).itemRowFloor).toBe(12.5)
    for (const bad of ['-1', 'many']) {
      expect(() =>
        createCommand()
          .exitOverride()
          .configureOutput({ writeErr: () => {} })
          .parse(argv('--item-row-floor', bad)),
      ).toThrow(/expected a number ≥ 0/)
    }
  })

  it('creates an explicit --store only with --init', () => {
    expect(parseCommandLine(argv('--store', 'x.sqlite')).createStore).toBe(false)
    expect(parseCommandLine(argv('--store', 'x.sqlite', '--init')).createStore).toBe(true)
    vi.stubEnv('FEDREC_STORE', 'y.sqlite')
    expect(parseCommandLine(argv()).createStore).toBe(false)
    vi.stubEnv('FEDREC_INIT', '1')
    expect(parseCommandLine(argv()).createStore).toBe(true)
  })

  it('reads the norm bound and the rate limits', () => {
    expect(
      parseCommandLine(
        argv('--max-update-norm', '2.5', '--norm-policy', 'reject', '--client-rate', '0', '--ip-rate', '60'),
      ),
    ).toMatchObject({ maxUpdateNorm: 2.5, normPolicy: 'reject', clientRatePerMinute: 0, ipRatePerMinute: 60 })
  })

  it('reads the evaluation users cap from the flag or FEDREC_MAX_EVALUATION_USERS, and refuses nonsense', () => {
    expect(parseCommandLine(argv('--max-evaluation-users', '50')).maxEvaluationUsers).toBe(50)
    vi.stubEnv('FEDREC_MAX_EVALUATION_USERS', '8')
    expect(parseCommandLine(argv()).maxEvaluationUsers).toBe(8)
    expect(parseCommandLine(argv('--max-evaluation-users', '2')).maxEvaluationUsers).toBe(2)
    const command = createCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
    for (const bad of ['0', '1.5', 'many', '1000001'])
      expect(() => command.parse(['node', 'cli.ts', '--max-evaluation-users', bad])).toThrow(
        /expected an integer in 1\.\.1000000/,
      )
  })

  it('refuses a round deadline or ack retention too long to be a date (every round close would fail)', () => {
    expect(parseCommandLine(argv('--round-deadline', '315360000')).roundDeadlineSeconds).toBe(315_360_000)
    const command = createCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
    for (const flag of ['--round-deadline', '--ack-retention'])
      expect(() => command.parse(['node', 'cli.ts', flag, '1e13'])).toThrow(/≤ 315360000/)
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

  it('gives a fresh model item features with --item-features (F = DEFAULT_FEATURE_ROWS) or --feature-rows', () => {
    expect(parseCommandLine(argv()).featureRows).toBeUndefined()
    expect(parseCommandLine(argv('--item-features')).featureRows).toBe(DEFAULT_FEATURE_ROWS)
    expect(parseCommandLine(argv('--feature-rows', '512')).featureRows).toBe(512)
    expect(parseCommandLine(argv('--item-features', '--feature-rows', '64')).featureRows).toBe(64)
  })
})
