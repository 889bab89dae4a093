// How `npm run qa` scales the same scenario specs up: the FEDREC_QA_* variables, read in one place.

/**
 * Sizes and inputs of a scenario run, read from the environment so `npm run qa` (which sets them) and the
 * plain e2e suite (which does not: small defaults) run the same specs.
 */
export interface QaOptions {
  /** FEDREC_QA_SHOPPERS: shoppers, when the scenario lets it vary. */
  shoppers: number | undefined
  /** FEDREC_QA_ROUNDS: federated rounds. */
  rounds: number | undefined
  /** FEDREC_QA_SEED: seed of the generated histories and of the aggregator's initial weights. */
  seed: number
  /** FEDREC_QA_DATA: a data-set file (generic CSV or MovieLens u.data) to take shoppers' histories from. */
  data: string | undefined
  /** FEDREC_QA_SUMMARY_DIR: where each scenario writes `<scenario>.json`. */
  summaryDir: string | undefined
}

const positiveInt = (name: string): number | undefined => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`)
  return n
}

/** @example readQaOptions().shoppers ?? 6 */
export function readQaOptions(): QaOptions {
  return {
    shoppers: positiveInt('FEDREC_QA_SHOPPERS'),
    rounds: positiveInt('FEDREC_QA_ROUNDS'),
    seed: positiveInt('FEDREC_QA_SEED') ?? 7,
    data: process.env.FEDREC_QA_DATA || undefined,
    summaryDir: process.env.FEDREC_QA_SUMMARY_DIR || undefined,
  }
}
