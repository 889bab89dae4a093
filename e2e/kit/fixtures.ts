// What a QA scenario is given: the `qa` Playwright fixture that sets up aggregators, populations and
// shoppers, and cleans them all up after the test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, test as base, chromium } from '@playwright/test'
import { chromiumArgs, chromiumPath } from '../chromium.ts'
import { loadStorefrontCatalogue, type Product, storefrontCataloguePath } from './catalogue.ts'
import { profilesFromInteractions, readInteractions } from './data-file.ts'
import { type ShopperProfile, tasteProfiles } from './histories.ts'
import { type QaOptions, readQaOptions } from './options.ts'
import { openAggregator, type QaAggregator, type QaAggregatorOptions } from './qa-aggregator.ts'
import { createRunRecorder, type RoundRecord, type RunRecorder, runRound } from './run.ts'
import { openShopper, type Shopper, type ShopperOptions } from './shopper.ts'

/** Shoppers-to-be and the catalogue the aggregator must serve for them. */
export interface Population {
  profiles: ShopperProfile[]
  /** Catalogue file for `--catalogue`. */
  catalogue: string
  itemIds: string[]
}

/** The `qa` fixture: everything a scenario needs; all of it is cleaned up after the test. */
export interface Qa {
  /** Sizes and inputs from `npm run qa` (environment); undefined sizes mean "the scenario's default". */
  readonly options: QaOptions
  /** The demo storefront's products. */
  readonly products: Product[]
  /** `n` shoppers: from FEDREC_QA_DATA when set (real histories), else synthetic tastes. */
  population(n: number, options?: { events?: number }): Population
  /** A real aggregator process with a fresh store (catalogue: the storefront's unless given). */
  aggregator(options: QaAggregatorOptions): Promise<QaAggregator>
  /** One shopper in its own browser context (or `options.context`), in `options.browser` if given. */
  shopper(
    agg: QaAggregator,
    profile: ShopperProfile,
    options?: Omit<ShopperOptions, 'endpoint' | 'profile'> & { browser?: Browser },
  ): Promise<Shopper>
  /**
   * Another Chromium with changed flags (closed after the test), e.g. without WebGL:
   * `qa.launchBrowser({ add: ['--disable-gpu', '--disable-software-rasterizer'], remove: ['--enable-unsafe-swiftshader'] })`.
   */
  launchBrowser(flags: { add?: string[]; remove?: string[] }): Promise<Browser>
  /** Many shoppers, opened a few at a time (2 cores). */
  shoppers(
    agg: QaAggregator,
    profiles: readonly ShopperProfile[],
    options?: Omit<ShopperOptions, 'endpoint' | 'profile' | 'context'>,
  ): Promise<Shopper[]>
  /** Runs one round (see `runRound`) and adds it to the summary. */
  round(
    agg: QaAggregator,
    shoppers: readonly Shopper[],
    options?: { itemIds?: readonly string[]; waitForClose?: boolean },
  ): Promise<RoundRecord>
  /** The JSON summary of this run; named after the scenario on first use. */
  recorder(scenario: string): RunRecorder
}

const OPEN_AT_ONCE = 3

/**
 * Playwright's `test` with the `qa` fixture.
 * @example
 * test('dropouts', async ({ qa }) => {
 *   const agg = await qa.aggregator({ minClients: 4 })
 *   const shoppers = await qa.shoppers(agg, qa.population(4).profiles)
 *   const record = await qa.round(agg, shoppers)
 * })
 */
export const test = base.extend<{ qa: Qa }>({
  qa: async ({ browser, baseURL }, use, testInfo) => {
    const options = readQaOptions()
    const products = loadStorefrontCatalogue()
    const aggregators: QaAggregator[] = []
    const opened: Shopper[] = []
    const tempDirs: string[] = []
    const browsers: Browser[] = []
    const state: { recorder: RunRecorder | null } = { recorder: null }
    let defaultItemIds: string[] = products.map((p) => p.id)

    const qa: Qa = {
      options,
      products,
      population(n, { events } = {}) {
        if (options.data) {
          const { profiles, itemIds } = profilesFromInteractions(readInteractions(options.data), {
            shoppers: n,
          })
          const dir = mkdtempSync(join(tmpdir(), 'fedrec-qa-data-'))
          tempDirs.push(dir)
          const catalogue = join(dir, 'catalogue.json')
          writeFileSync(catalogue, JSON.stringify(itemIds))
          defaultItemIds = itemIds
          return { profiles, catalogue, itemIds }
        }
        const profiles = tasteProfiles({
          shoppers: n,
          products,
          seed: options.seed,
          ...(events === undefined ? {} : { events }),
        })
        return { profiles, catalogue: storefrontCataloguePath, itemIds: products.map((p) => p.id) }
      },
      async aggregator(opts) {
        const agg = await openAggregator({ catalogue: storefrontCataloguePath, seed: options.seed, ...opts })
        aggregators.push(agg)
        return agg
      },
      async shopper(agg, profile, { browser: other, ...opts } = {}) {
        const s = await openShopper(other ?? browser, {
          ...(baseURL ? { baseURL } : {}),
          ...opts,
          endpoint: agg.url,
          profile,
        })
        opened.push(s)
        return s
      },
      async shoppers(agg, profiles, opts = {}) {
        const result: Shopper[] = []
        for (let i = 0; i < profiles.length; i += OPEN_AT_ONCE) {
          const batch = profiles.slice(i, i + OPEN_AT_ONCE)
          result.push(...(await Promise.all(batch.map((p) => qa.shopper(agg, p, opts)))))
        }
        return result
      },
      async launchBrowser({ add = [], remove = [] }) {
        const args = [...chromiumArgs.filter((a) => !remove.includes(a)), ...add]
        const launched = await chromium.launch({ executablePath: chromiumPath, args })
        browsers.push(launched)
        return launched
      },
      async round(agg, shoppers, opts = {}) {
        const record = await runRound(agg, shoppers, {
          itemIds: opts.itemIds ?? defaultItemIds,
          seed: options.seed,
          ...(opts.waitForClose === undefined ? {} : { waitForClose: opts.waitForClose }),
        })
        state.recorder?.round(record)
        return record
      },
      recorder(scenario) {
        state.recorder ??= createRunRecorder(scenario)
        return state.recorder
      },
    }

    await use(qa)

    try {
      if (state.recorder)
        await state.recorder.finish(aggregators[0] ?? null, opened, testInfo, options.summaryDir)
      if (testInfo.status !== testInfo.expectedStatus) {
        for (const [i, agg] of aggregators.entries())
          await testInfo.attach(`aggregator-${i}.log`, {
            body: agg.output.join('\n'),
            contentType: 'text/plain',
          })
        for (const s of opened)
          if (s.errors.length)
            await testInfo.attach(`${s.name}-errors.txt`, {
              body: s.errors.join('\n'),
              contentType: 'text/plain',
            })
      }
    } finally {
      await Promise.all(opened.map((s) => s.context.close().catch(() => undefined)))
      await Promise.all(aggregators.map((a) => a.dispose()))
      await Promise.all(browsers.map((b) => b.close()))
      for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
    }
  },
})

export { expect } from '@playwright/test'
