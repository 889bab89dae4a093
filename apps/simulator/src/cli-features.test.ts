import { describe, expect, it } from 'vitest'
import { runItemFeatures } from './catalogue-features.ts'
import { createCommand } from './cli-command.ts'
import { simulationOptionsOf } from './cli-options.ts'

/** The options the CLI makes of `args` (after the required --dataset and --path). */
function optionsOf(...args: string[]) {
  const command = createCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
  command.parse(['--dataset', 'generic', '--path', 'x.csv', ...args], { from: 'user' })
  return simulationOptionsOf(command, 'generic', 'x.csv')
}

describe('the item-feature and cold-start flags', () => {
  it('parse: features default to the metadata, rows to 4096, no cut', () => {
    expect(optionsOf()).toMatchObject({ itemFeatures: undefined, featureRows: 4096, coldItems: undefined })
    expect(
      optionsOf('--item-features', 'off', '--feature-rows', '512', '--cold-items', '0.2', '--cold-listed'),
    ).toMatchObject({ itemFeatures: 'off', featureRows: 512, coldItems: 0.2, coldListed: true })
    expect(optionsOf()).toMatchObject({ negativeIdRows: true })
    expect(optionsOf('--negative-id-rows', 'off')).toMatchObject({ negativeIdRows: false })
    expect(optionsOf()).toMatchObject({ itemRowFloor: undefined })
    expect(optionsOf('--item-row-floor', '0')).toMatchObject({ itemRowFloor: 0 })
  })

  it('refuse what makes no sense, each with its reason', () => {
    expect(() => optionsOf('--item-features', 'maybe')).toThrow('Allowed choices are on, off')
    expect(() => optionsOf('--negative-id-rows', 'no')).toThrow('Allowed choices are on, off')
    expect(() => optionsOf('--item-row-floor', '-5')).toThrow('expected a number ≥ 0')
    expect(() => optionsOf('--cold-items', '1')).toThrow('expected a fraction below 1')
    expect(() => optionsOf('--cold-items', '0')).toThrow('expected a number > 0')
    expect(() => optionsOf('--cold-listed')).toThrow('--cold-listed needs --cold-items')
    expect(() => optionsOf('--cold-items', '0.2', '--endpoint', 'http://127.0.0.1:1/')).toThrow(
      '--cold-items is for in-process runs',
    )
    expect(() => optionsOf('--item-features', 'on', '--endpoint', 'http://127.0.0.1:1/')).toThrow(
      '--item-features on is for in-process runs',
    )
  })

  it('--item-features on with --secure-aggregation: accepted, the masks carry the feature table', () => {
    expect(optionsOf('--item-features', 'on', '--secure-aggregation')).toMatchObject({
      itemFeatures: 'on',
      secureAggregation: true,
    })
  })

  it('--item-features on without item metadata stops the run; by default the model is then id-only', () => {
    expect(() => runItemFeatures({ itemFeatures: 'on', endpoint: undefined }, undefined, ['a'])).toThrow(
      'itemFeatures on needs item metadata (--items), none was found',
    )
    expect(runItemFeatures({ endpoint: undefined }, undefined, ['a'])).toBeUndefined()
  })
})
