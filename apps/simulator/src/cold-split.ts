// New products: the items introduced last (by the time anyone first touched them) are taken out of training
// and come back as products added after it, to be recommended by their features.
import type { LoadedDataset } from './datasets/index.ts'
import { SimulationError } from './errors.ts'
import type { SplitDataset } from './split.ts'

/** A split whose last rows are new products: rows `coldFrom ..` were introduced after the time cut. */
export interface ColdSplit extends SplitDataset {
  /** The first new row: rows `0 .. coldFrom − 1` existed before the cut, the rest are new. */
  coldFrom: number
  /** The cut: the time (the data set's unit) the earliest new product was first touched. */
  cutTime: number
  /** Training events dropped because their item is new. */
  droppedEvents: number
}

/**
 * Takes the latest-introduced fraction `fraction` of the items (ordered by the first time any shopper
 * touched them, ties by row) out of training: every training event on them is dropped, and the rows are
 * renumbered so the old items come first (in their order) and the new ones last — a model that lists only
 * rows below `coldFrom` trains without them, as a shop's model before those products were added. Held-out
 * items, the shoppers' contexts and their negatives keep pointing at the same items.
 * @throws SimulationError when `fraction` is not in (0, 1) or leaves no old or no new item
 * @example const cold = coldStartSplit(data, leaveOneOut(data, opts), 0.2) // cold.coldFrom ≈ 0.8 · items
 */
export function coldStartSplit(data: LoadedDataset, split: SplitDataset, fraction: number): ColdSplit {
  if (!(Number.isFinite(fraction) && fraction > 0 && fraction < 1))
    throw new SimulationError('bad_option', `coldItems must be a fraction in (0, 1), got ${fraction}`)
  const n = split.itemIds.length
  const rowOf = new Map(split.itemIds.map((id, row) => [id, row]))
  const firstSeen = new Float64Array(n).fill(Number.POSITIVE_INFINITY)
  for (const e of data.interactions) {
    const row = rowOf.get(e.item)!
    if (e.timestamp < firstSeen[row]!) firstSeen[row] = e.timestamp
  }
  const byIntroduction = Array.from({ length: n }, (_, row) => row).sort(
    (a, b) => firstSeen[a]! - firstSeen[b]! || a - b,
  )
  const numCold = Math.round(fraction * n)
  if (numCold < 1 || numCold >= n)
    throw new SimulationError(
      'bad_option',
      `coldItems ${fraction} of ${n} items leaves ${numCold} new items; it needs at least one new and one old`,
    )
  const cold = new Uint8Array(n)
  for (const row of byIntroduction.slice(n - numCold)) cold[row] = 1
  const order = [...byIntroduction.keys()].filter((row) => !cold[row])
  for (let row = 0; row < n; row++) if (cold[row]) order.push(row)
  const newRow = new Int32Array(n)
  order.forEach((old, row) => {
    newRow[old] = row
  })
  const move = (row: number) => newRow[row]!
  const moveOpt = (row: number | undefined) => (row === undefined ? undefined : newRow[row]!)
  let droppedEvents = 0
  let trainEvents = 0
  const users = split.users.map((u) => {
    const train = u.train.filter((e) => !cold[e.row]).map((e) => ({ ...e, row: move(e.row) }))
    droppedEvents += u.train.length - train.length
    trainEvents += train.length
    return {
      ...u,
      train,
      trainRows: new Set(train.map((e) => e.row)),
      validation: moveOpt(u.validation),
      test: moveOpt(u.test),
      testContext: u.testContext.map((e) => ({ ...e, row: move(e.row) })),
      validationContext: u.validationContext.map((e) => ({ ...e, row: move(e.row) })),
      negatives: u.negatives.map(move),
    }
  })
  const recentCounts = new Float64Array(n)
  order.forEach((old, row) => {
    recentCounts[row] = cold[old] ? 0 : split.recentCounts[old]!
  })
  return {
    itemIds: order.map((old) => split.itemIds[old]!),
    users,
    recentCounts,
    evalUsers: split.evalUsers,
    counts: { ...split.counts, trainEvents },
    coldFrom: n - numCold,
    cutTime: firstSeen[byIntroduction[n - numCold]!]!,
    droppedEvents,
  }
}
