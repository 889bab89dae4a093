// The QA kit: Playwright fixtures and helpers to run many shoppers against a real aggregator, with faults.
// See docs/qa.md.
export { loadStorefrontCatalogue, type Product, storefrontCataloguePath } from './catalogue.ts'
export { type Interaction, profilesFromInteractions, readInteractions } from './data-file.ts'
export { type HeldOutRank, rankHeldOut } from './evaluate.ts'
export {
  closeTabAfter,
  fillStorage,
  freeStorage,
  type HeldUploads,
  holdUploads,
  loseWebGLContextDuringNextDraws,
  reloadDuringUpload,
} from './faults.ts'
export { expect, type Population, type Qa, test } from './fixtures.ts'
export { type HistoryEvent, type ShopperProfile, tasteProfiles } from './histories.ts'
export { type QaOptions, readQaOptions } from './options.ts'
export { expectOnlyProtocolTraffic } from './privacy.ts'
export {
  openAggregator,
  type QaAggregator,
  type QaAggregatorOptions,
  type QaCatalogueEntry,
} from './qa-aggregator.ts'
export { type RoundRecord, type RunSummary, runRound } from './run.ts'
export { type BackendName, openShopper, type Shopper, type SyncOutcome, type Traffic } from './shopper.ts'
