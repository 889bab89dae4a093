import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readCatalogueSpec } from './catalogue-shops.ts'
import { StartupError } from './errors.ts'

const dir = mkdtempSync(join(tmpdir(), 'fedrec-shops-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, json: unknown) => {
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify(json))
  return path
}

describe('--catalogue with several shops', () => {
  const a = file('a.json', [{ id: 'sku-1', category: 'Kitchen', brand: 'Acme' }, 'sku-2'])
  const b = file('b.json', [{ id: 'sku-1', category: 'Kitchen', brand: 'Other' }])

  it("puts each shop's ids under its namespace, features as they are, in the order of the list", () => {
    expect(readCatalogueSpec(`a=${a},shop_b=${b}`)).toEqual([
      { id: 'a:sku-1', features: ['cat:kitchen', 'brand:acme'] },
      { id: 'a:sku-2' },
      { id: 'shop_b:sku-1', features: ['cat:kitchen', 'brand:other'] },
    ])
  })

  it('reads one file as it is, even one whose name has a =', () => {
    expect(readCatalogueSpec(a)).toEqual([
      { id: 'sku-1', features: ['cat:kitchen', 'brand:acme'] },
      { id: 'sku-2' },
    ])
    const odd = file('x=y.json', ['sku-9'])
    expect(readCatalogueSpec(odd)).toEqual([{ id: 'sku-9' }])
  })

  it.each([
    [() => `a=${a},${b}`, /each shop of a list is <shop>=<file>/],
    [() => `a=${a},b=`, /each shop of a list is <shop>=<file>/],
    [() => `=${a}`, /a shop name is 1 to 32 letters, digits, '_' or '-', got ""/],
    [() => `a:b=${a}`, /got "a:b"/],
    [() => `a=${a},a=${b}`, /shop "a" is listed twice/],
    [() => `a=${a},b=${join(dir, 'missing.json')}`, /cannot read catalogue .*missing\.json of shop b/],
    [() => `a=${file('empty-id.json', [''])}`, /empty-id\.json \(shop a\)\[0\]: item id must be 1\.\.256/],
    [() => `a=${file('not-list.json', { ids: [] })}`, /must be an array of item ids/],
  ])('refuses a bad list with a start-up error naming the part (%#)', (spec, message) => {
    expect(() => readCatalogueSpec(spec())).toThrow(StartupError)
    expect(() => readCatalogueSpec(spec())).toThrow(message)
  })
})
