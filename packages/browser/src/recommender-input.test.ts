import { describe, expect, it } from 'vitest'
import { isFedrecError } from './errors.ts'
import { checkShop, parseEndpoint, parseFolderUrl } from './recommender-input.ts'

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

describe('the shop option', () => {
  it('takes a namespace of letters, digits, _ and -', () => {
    expect(checkShop('bramble')).toBe('bramble')
    expect(checkShop('Shop_2-b')).toBe('Shop_2-b')
  })

  it('refuses a value that is not a string', () => {
    expect(failure(() => checkShop(7))).toEqual({
      code: 'bad_option',
      message: 'shop must be a string, got 7',
    })
  })

  it('refuses an empty name', () => {
    expect(failure(() => checkShop(''))).toMatchObject({ code: 'bad_option', message: /got ""$/ })
  })

  it("refuses a ':' (it separates the shop from the id in the shared model)", () => {
    expect(failure(() => checkShop('a:b'))).toMatchObject({ code: 'bad_option', message: /got "a:b"$/ })
  })

  it('refuses a name longer than 32 characters', () => {
    expect(failure(() => checkShop('s'.repeat(33)))).toMatchObject({
      code: 'bad_option',
      message: /^shop must be 1 to 32 letters/,
    })
  })
})
