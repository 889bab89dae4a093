// @ts-check
// What the dashboard reads from `GET /v1/dashboard`, checked before use: the body is outside data even from
// our own server (a proxy, an older aggregator). Plain JavaScript checked by tsc through JSDoc (see
// tsconfig.json here), so the page needs no build step.

/**
 * @typedef {object} RoundPoint One closed round.
 * @property {number} round
 * @property {number} modelVersion
 * @property {number} participants
 * @property {number} samples
 * @property {string} openedAt
 * @property {string} closedAt
 * @property {string} closedBy
 * @property {number} updateNorm L2 norm of the step the server optimizer applied.
 * @property {{ mean: number, max: number }} clientUpdateNorm L2 norms of the round's client updates.
 * @property {number} [epsilon] DP: ε spent after this round (absent: the round ran without DP).
 */

/**
 * @typedef {object} PrivacyAccount The aggregator's differential-privacy account.
 * @property {'gaussian' | 'none'} mechanism
 * @property {number | null} noiseMultiplier
 * @property {number | null} clipNorm
 * @property {number} delta
 * @property {number | null} sampleRate
 * @property {number | null} epsilon
 * @property {number} rounds
 * @property {number} unprotectedRounds
 */

/**
 * @typedef {object} Evaluation Federated evaluation of one model version.
 * @property {number} modelVersion
 * @property {number} users
 * @property {number} hr10
 * @property {number} ndcg10
 */

/**
 * @typedef {object} DashboardStatus The part of the aggregator's status the page draws.
 * @property {number} round
 * @property {number} modelVersion
 * @property {number} participants
 * @property {number} samples
 * @property {number} numItems
 * @property {number} dim
 * @property {number} modelBytes
 * @property {string} serverOptimizer
 * @property {{ minClients: number, deadline: string }} config
 * @property {RoundPoint[]} history
 * @property {Record<string, number>} rejections
 * @property {Evaluation[]} evaluations
 * @property {PrivacyAccount} [privacy] absent from aggregators before DP
 * @property {number} [publicQuorum] participants a closed round needs before the public `GET /v1/status`
 *   shows it (from the dashboard body, beside the status; absent from aggregators before the public view)
 */

/**
 * Compile-time only: the protocol's `Status` must fit `DashboardStatus`, so a field the page reads that the
 * protocol renames or retypes fails the type check (TS2344 here) instead of the page.
 * @template {DashboardStatus} T
 * @typedef {T} Fits
 */
/** @typedef {Fits<import('@fedrec/protocol').Status>} ProtocolStatusFits */

/** A body that is not what the page expects; `message` names the first wrong field. */
export class DashboardDataError extends Error {
  /** @override */
  name = 'DashboardDataError'
}

/**
 * Checks a decoded `GET /v1/dashboard` body and returns its status.
 * @param {unknown} input
 * @returns {DashboardStatus}
 * @throws {DashboardDataError}
 * @example const status = parseDashboardData(await res.json())
 */
export function parseDashboardData(input) {
  const body = reader(input, '')
  const status = reader(body('status', object), 'status')
  const config = reader(status('config', object), 'status.config')
  const rejections = reader(status('rejections', object), 'status.rejections')
  return {
    round: status('round', count),
    modelVersion: status('modelVersion', count),
    participants: status('participants', count),
    samples: status('samples', count),
    numItems: status('numItems', count),
    dim: status('dim', count),
    modelBytes: status('modelBytes', count),
    serverOptimizer: status('serverOptimizer', string),
    config: { minClients: config('minClients', count), deadline: config('deadline', string) },
    history: status('history', array).map((entry, i) => {
      const r = reader(entry, `status.history.${i}`)
      const norms = reader(r('clientUpdateNorm', object), `status.history.${i}.clientUpdateNorm`)
      return {
        round: r('round', count),
        modelVersion: r('modelVersion', count),
        participants: r('participants', count),
        samples: r('samples', count),
        openedAt: r('openedAt', string),
        closedAt: r('closedAt', string),
        closedBy: r('closedBy', string),
        updateNorm: r('updateNorm', finite),
        clientUpdateNorm: { mean: norms('mean', finite), max: norms('max', finite) },
        ...(r.keys.includes('epsilon') ? { epsilon: r('epsilon', finite) } : {}),
      }
    }),
    rejections: Object.fromEntries(rejections.keys.map((code) => [code, rejections(code, count)])),
    evaluations: status('evaluations', array).map((entry, i) => {
      const e = reader(entry, `status.evaluations.${i}`)
      return {
        modelVersion: e('modelVersion', count),
        users: e('users', count),
        hr10: e('hr10', finite),
        ndcg10: e('ndcg10', finite),
      }
    }),
    ...(status.keys.includes('privacy') ? { privacy: privacyAccount(status('privacy', object)) } : {}),
    ...(body.keys.includes('publicQuorum') ? { publicQuorum: body('publicQuorum', count) } : {}),
  }
}

/**
 * @param {unknown} input
 * @returns {PrivacyAccount}
 */
function privacyAccount(input) {
  const p = reader(input, 'status.privacy')
  const mechanism = p('mechanism', string)
  if (mechanism !== 'gaussian' && mechanism !== 'none')
    throw new DashboardDataError(`status.privacy.mechanism: expected gaussian or none, got ${mechanism}`)
  /** @param {unknown} value @param {string} path */
  const orNull = (value, path) => (value === null ? null : finite(value, path))
  return {
    mechanism,
    noiseMultiplier: p('noiseMultiplier', orNull),
    clipNorm: p('clipNorm', orNull),
    delta: p('delta', finite),
    sampleRate: p('sampleRate', orNull),
    epsilon: p('epsilon', orNull),
    rounds: p('rounds', count),
    unprotectedRounds: p('unprotectedRounds', count),
  }
}

/**
 * What the privacy card says: ε at δ with the DP rounds it covers, or that DP is off.
 * @param {PrivacyAccount | undefined} p
 * @returns {{ value: string, note: string }}
 * @example privacySummary({ mechanism: 'gaussian', epsilon: 3.2, delta: 1e-5, rounds: 10, … }) // { value: 'ε 3.20', note: '(δ 1e-5, 10 DP rounds)' }
 */
export function privacySummary(p) {
  if (!p || (p.mechanism === 'none' && p.rounds === 0)) return { value: 'off', note: '(no DP)' }
  const value = p.epsilon === null ? 'ε ∞' : `ε ${p.epsilon.toFixed(2)}`
  const unprotected = p.unprotectedRounds > 0 ? `, ${p.unprotectedRounds} rounds without DP` : ''
  const off = p.mechanism === 'none' ? ', DP now off' : ''
  return { value, note: `(δ ${p.delta.toExponential(0)}, ${p.rounds} DP rounds${unprotected}${off})` }
}

/**
 * The evaluation of the newest evaluated model version, if any client reported one.
 * @param {readonly Evaluation[]} evaluations
 * @returns {Evaluation | undefined}
 */
export function latestEvaluation(evaluations) {
  /** @type {Evaluation | undefined} */
  let latest
  for (const e of evaluations) if (!latest || e.modelVersion > latest.modelVersion) latest = e
  return latest
}

/**
 * Rejection counts, most frequent first (ties by code), for the chart and the table.
 * @param {Readonly<Record<string, number>>} rejections
 * @returns {Array<[code: string, count: number]>}
 */
export function rejectionRows(rejections) {
  return Object.entries(rejections).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}

/**
 * A byte count for people: `35716` → `34.9 KiB`.
 * @param {number} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`
}

/**
 * @typedef {(<T>(key: string, check: (value: unknown, path: string) => T) => T) & { keys: string[] }} Reader
 *   Reads checked fields of one object and names them by their full path in errors.
 */

/**
 * @param {unknown} value
 * @param {string} path where `value` is, for error messages ('' for the root)
 * @returns {Reader}
 */
function reader(value, path) {
  const obj = object(value, path || '(root)')
  /** @type {<T>(key: string, check: (value: unknown, path: string) => T) => T} */
  const get = (key, check) => check(obj[key], path ? `${path}.${key}` : key)
  return Object.assign(get, { keys: Object.keys(obj) })
}

/**
 * @param {unknown} value
 * @param {string} path
 * @returns {Record<string, unknown>}
 */
function object(value, path) {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DashboardDataError(`${path}: expected an object, got ${describe(value)}`)
  return Object.fromEntries(Object.entries(value))
}

/**
 * @param {unknown} value
 * @param {string} path
 * @returns {unknown[]}
 */
function array(value, path) {
  if (!Array.isArray(value))
    throw new DashboardDataError(`${path}: expected an array, got ${describe(value)}`)
  return value
}

/**
 * @param {unknown} value
 * @param {string} path
 * @returns {string}
 */
function string(value, path) {
  if (typeof value !== 'string')
    throw new DashboardDataError(`${path}: expected a string, got ${describe(value)}`)
  return value
}

/**
 * @param {unknown} value
 * @param {string} path
 * @returns {number}
 */
function finite(value, path) {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new DashboardDataError(`${path}: expected a finite number, got ${describe(value)}`)
  return value
}

/**
 * @param {unknown} value
 * @param {string} path
 * @returns {number}
 */
function count(value, path) {
  const n = finite(value, path)
  if (!Number.isInteger(n) || n < 0)
    throw new DashboardDataError(`${path}: expected a count (integer ≥ 0), got ${n}`)
  return n
}

/** @param {unknown} value */
const describe = (value) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value)
