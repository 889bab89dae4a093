import { describe, expect, it } from 'vitest'
import { isFedrecError } from './errors.ts'
import { parseEndpoint, parseFolderUrl } from './recommender-input.ts'

const failure = (run: () => unknown) => {
  try {
    run()
  } catch (err) {
    return isFedrecError(err) ? { code: err.code, message: err.message } : err
  }
  throw new Error('expected a refusal')
}

describe('folder URL options (endpoint, assetBase)', () => {
  it('adds the trailing slash so relative files stay inside the folder', () => {
    expect(parseEndpoint('https://agg.example/fedrec')).toBe('https://agg.example/fedrec/')
    expect(parseEndpoint('https://agg.example/fedrec/')).toBe('https://agg.example/fedrec/')
    expect(new URL('worker.js', parseFolderUrl('assetBase', 'https://cdn.example/static')).href).toBe(
      'https://cdn.example/static/worker.js',
    )
  })

  it('refuses a value that is not a string or not a URL, naming the option', () => {
    expect(failure(() => parseEndpoint(42))).toEqual({
      code: 'bad_option',
      message: 'endpoint must be a URL string',
    })
    // No page here (Node), so a relative value has nothing to resolve against.
    expect(failure(() => parseFolderUrl('assetBase', '/static'))).toEqual({
      code: 'bad_option',
      message: 'assetBase "/static" is not a URL',
    })
  })
})
