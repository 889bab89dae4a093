import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CatalogueError, parseItemIds, readCatalogueFile } from './catalogue.ts'
import { StartupError } from './errors.ts'

describe('parseItemIds', () => {
  it('accepts strings and objects with an id, keeping the first of repeats', () => {
    expect(parseItemIds(['a', { id: 'b', name: 'B' }, 'a'])).toEqual(['a', 'b'])
  })

  it.each([
    [{ itemIds: [] }, /must be an array/],
    [[''], /1\.\.256 UTF-8 bytes/],
    [['x'.repeat(257)], /got 257/],
    [[{ sku: 'a' }], /must be a string/],
    [[null], /must be a string, got null/],
  ])('refuses %j', (input, message) => {
    expect(() => parseItemIds(input)).toThrow(CatalogueError)
    expect(() => parseItemIds(input)).toThrow(message)
  })
})

describe('readCatalogueFile', () => {
  it('reads a JSON file and reports a bad one as a start-up error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedrec-catalogue-'))
    try {
      writeFileSync(join(dir, 'ok.json'), JSON.stringify([{ id: 'sku-1' }, 'sku-2']))
      expect(readCatalogueFile(join(dir, 'ok.json'))).toEqual(['sku-1', 'sku-2'])
      writeFileSync(join(dir, 'bad.json'), '{ nope')
      expect(() => readCatalogueFile(join(dir, 'bad.json'))).toThrow(StartupError)
      expect(() => readCatalogueFile(join(dir, 'missing.json'))).toThrow(/cannot read catalogue/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
