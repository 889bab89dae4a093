import { describe, expect, it } from 'vitest'
import { DEFAULT_ENDPOINT, parseSettings } from './settings.ts'

const BASE = 'http://shop.test/'

describe('parseSettings', () => {
  it('uses the defaults when nothing is set', () => {
    expect(parseSettings('', {}, BASE)).toEqual({
      settings: {
        endpoint: DEFAULT_ENDPOINT,
        syncEverySeconds: 60,
        syncAfterEvents: 5,
        catalogueUrl: 'http://shop.test/catalogue.json',
      },
      warnings: [],
    })
  })

  it('prefers ?endpoint= over the build-time variable', () => {
    const { settings } = parseSettings(
      '?endpoint=http://agg.test:9000/',
      { VITE_FEDREC_ENDPOINT: 'http://env.test/' },
      BASE,
    )
    expect(settings.endpoint).toBe('http://agg.test:9000/')
  })

  it('falls back to VITE_FEDREC_ENDPOINT, and resolves a relative endpoint against the page', () => {
    expect(parseSettings('', { VITE_FEDREC_ENDPOINT: 'http://env.test/' }, BASE).settings.endpoint).toBe(
      'http://env.test/',
    )
    expect(parseSettings('?endpoint=/agg/', {}, BASE).settings.endpoint).toBe('http://shop.test/agg/')
  })

  it('ignores a non-http endpoint with a warning', () => {
    const { settings, warnings } = parseSettings('?endpoint=javascript:alert(1)', {}, BASE)
    expect(settings.endpoint).toBe(DEFAULT_ENDPOINT)
    expect(warnings).toHaveLength(1)
  })

  it('reads the sync cadence; 0 turns a trigger off; junk keeps the default', () => {
    expect(parseSettings('?syncEvery=0&syncAfter=0', {}, BASE).settings).toMatchObject({
      syncEverySeconds: 0,
      syncAfterEvents: 0,
    })
    expect(parseSettings('?syncEvery=2.5&syncAfter=3', {}, BASE).settings).toMatchObject({
      syncEverySeconds: 2.5,
      syncAfterEvents: 3,
    })
    const { settings, warnings } = parseSettings('?syncEvery=-1&syncAfter=soon', {}, BASE)
    expect(settings).toMatchObject({ syncEverySeconds: 60, syncAfterEvents: 5 })
    expect(warnings).toHaveLength(2)
  })

  it('reads a backend order for QA, and ignores unknown names', () => {
    expect(parseSettings('?backends=wasm,cpu', {}, BASE).settings.backends).toEqual(['wasm', 'cpu'])
    const { settings, warnings } = parseSettings('?backends=webgpu', {}, BASE)
    expect(settings.backends).toBeUndefined()
    expect(warnings).toHaveLength(1)
  })

  it('reads the shop of a shared model from ?shop=, else VITE_FEDREC_SHOP, else none', () => {
    expect(parseSettings('?shop=fjord', { VITE_FEDREC_SHOP: 'env' }, BASE).settings.shop).toBe('fjord')
    expect(parseSettings('', { VITE_FEDREC_SHOP: 'env' }, BASE).settings.shop).toBe('env')
    expect(parseSettings('?shop=', {}, BASE).settings.shop).toBeUndefined()
  })

  it('reads the catalogue URL against the app, and ignores one that is not http(s)', () => {
    expect(parseSettings('?catalogue=catalogue-b.json', {}, BASE).settings.catalogueUrl).toBe(
      'http://shop.test/catalogue-b.json',
    )
    expect(
      parseSettings('', { VITE_FEDREC_CATALOGUE: 'https://cdn.test/c.json' }, BASE).settings.catalogueUrl,
    ).toBe('https://cdn.test/c.json')
    const { settings, warnings } = parseSettings('?catalogue=javascript:alert(1)', {}, BASE)
    expect(settings.catalogueUrl).toBe('http://shop.test/catalogue.json')
    expect(warnings).toEqual(['?catalogue= "javascript:alert(1)" is not an http(s) URL; ignored'])
  })
})
