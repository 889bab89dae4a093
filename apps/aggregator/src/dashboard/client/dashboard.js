// @ts-check
// The dashboard page: takes the operator token from the URL fragment or the form, polls GET /v1/dashboard
// with it (an ETag makes an unchanged answer a bodiless 304), and redraws the numbers, tables and charts.
// Polling rather than server-sent events: EventSource cannot send an Authorization header, and a token in
// a query string ends up in logs.
import { createCharts } from './charts.js'
import { formatBytes, latestEvaluation, parseDashboardData, privacySummary, rejectionRows } from './data.js'

/** @typedef {import('./data.js').DashboardStatus} DashboardStatus */

const POLL_MS = 2000
const TOKEN_KEY = 'fedrec-operator-token'
const DATA_URL = new URL('v1/dashboard', document.baseURI)
const integer = new Intl.NumberFormat('en')

/** @param {string} id */
function byId(id) {
  const el = document.getElementById(id)
  if (!el) throw new Error(`the page has no #${id}`)
  return el
}

const live = byId('live')
const auth = byId('auth')
const authForm = byId('auth-form')
const authMessage = byId('auth-message')
const board = byId('board')
const boardMessage = byId('board-message')
const signOut = byId('sign-out')

/** @type {ReturnType<typeof createCharts> | undefined} */
let charts
/** @type {string | undefined} */
let etag
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer
let polling = false
// Bumped by stop(): a request that was in flight when the page stopped (tab hidden, token forgotten) must
// neither draw nor schedule, or hiding and showing the tab quickly would start a second polling loop.
let generation = 0

/**
 * The token from `#token=…` (then dropped from the address bar and the history) or from this tab's storage.
 * @returns {string | null}
 */
function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1))
  const fromUrl = fragment.get('token')
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl)
    history.replaceState(null, '', location.pathname + location.search)
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

/** @param {string} message */
function askForToken(message) {
  stop()
  sessionStorage.removeItem(TOKEN_KEY)
  etag = undefined
  board.hidden = true
  signOut.hidden = true
  auth.hidden = false
  authMessage.textContent = message
  setLive('signed-out', 'Not signed in')
  const input = auth.querySelector('input')
  input?.focus()
}

/**
 * @param {'connecting' | 'live' | 'error' | 'paused' | 'signed-out'} state
 * @param {string} text
 */
function setLive(state, text) {
  live.dataset.state = state
  live.textContent = text
}

function stop() {
  polling = false
  generation += 1
  if (timer !== undefined) clearTimeout(timer)
  timer = undefined
}

function start() {
  if (polling) return
  polling = true
  void poll()
}

async function poll() {
  timer = undefined
  const mine = generation
  const token = sessionStorage.getItem(TOKEN_KEY)
  if (!token) return askForToken('')
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${token}` }
  if (etag) headers['If-None-Match'] = etag
  try {
    // no-store: this page does its own revalidation, and the browser must not keep the operator's data.
    const res = await fetch(DATA_URL, { headers, cache: 'no-store' })
    if (mine !== generation) return
    if (res.status === 401) {
      return askForToken(
        'The aggregator refused this token (401). Paste the operator token it printed at start, or the one given with --operator-token.',
      )
    }
    if (res.status === 304) {
      showLive()
    } else if (res.ok) {
      const status = parseDashboardData(await res.json())
      if (mine !== generation) return
      etag = res.headers.get('ETag') ?? undefined
      showLive()
      render(status)
    } else {
      throw new Error(`GET /v1/dashboard answered ${res.status}: ${await errorMessage(res)}`)
    }
  } catch (err) {
    if (mine !== generation) return
    const message = err instanceof Error ? err.message : String(err)
    setLive('error', `Retrying: ${message}`)
    boardMessage.textContent = message
    boardMessage.hidden = false
  }
  if (polling && !document.hidden) timer = setTimeout(poll, POLL_MS)
}

function showLive() {
  boardMessage.hidden = true
  setLive('live', `Live · updated ${new Date().toLocaleTimeString('en-GB')}`)
}

/**
 * @param {Response} res
 * @returns {Promise<string>}
 */
async function errorMessage(res) {
  try {
    /** @type {unknown} */
    const body = await res.json()
    if (typeof body === 'object' && body !== null && 'error' in body) {
      const { error } = body
      if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message)
    }
  } catch {
    // Not JSON: the status code says enough.
  }
  return res.statusText || 'no message'
}

/**
 * @param {string} name a `data-stat` name in index.html
 * @param {string} text
 * @param {number | string} [value] the raw value, kept in `data-value` for scripts and tests
 */
function stat(name, text, value) {
  const el = document.querySelector(`[data-stat="${name}"]`)
  if (!(el instanceof HTMLElement)) throw new Error(`the page has no [data-stat="${name}"]`)
  el.textContent = text
  if (value === undefined) delete el.dataset.value
  else el.dataset.value = String(value)
}

/** @param {DashboardStatus} s */
function render(s) {
  auth.hidden = true
  board.hidden = false
  signOut.hidden = false
  stat('round', integer.format(s.round), s.round)
  stat('modelVersion', `v${s.modelVersion}`, s.modelVersion)
  stat('modelBytes', formatBytes(s.modelBytes), s.modelBytes)
  stat('participants', integer.format(s.participants), s.participants)
  stat('quorum', `(quorum ${s.config.minClients})`, s.config.minClients)
  stat('samples', integer.format(s.samples), s.samples)
  stat('roundsClosed', integer.format(s.history.length), s.history.length)
  const rejected = Object.values(s.rejections).reduce((a, b) => a + b, 0)
  stat('rejected', integer.format(rejected), rejected)
  const latest = latestEvaluation(s.evaluations)
  stat('evaluatedVersion', latest ? `(v${latest.modelVersion}, ${integer.format(latest.users)} users)` : '')
  stat('hr10', latest ? latest.hr10.toFixed(3) : '–', latest?.hr10 ?? '')
  stat('ndcg10', latest ? latest.ndcg10.toFixed(3) : '–', latest?.ndcg10 ?? '')
  const privacy = privacySummary(s.privacy)
  stat('epsilon', privacy.value, s.privacy?.epsilon ?? '')
  stat('privacyNote', privacy.note)
  const deadline = new Date(s.config.deadline).toLocaleTimeString('en-GB')
  stat(
    'meta',
    `${integer.format(s.numItems)} items × d = ${s.dim} · server optimizer ${s.serverOptimizer} · round ${s.round} closes at ${s.config.minClients} updates or at ${deadline}`,
  )
  renderViewNote(s)
  renderRejections(s.rejections)
  renderRounds(s)
  // The global of ECharts' UMD build (echarts/dist/echarts.min.js), which index.html loads before this module.
  const lib = /** @type {typeof import('echarts') | undefined} */ (Reflect.get(globalThis, 'echarts'))
  if (lib) {
    charts ??= createCharts(lib, document)
    charts.update(s)
  } else {
    boardMessage.textContent = 'ECharts did not load: the charts are missing; the numbers above are current.'
    boardMessage.hidden = false
  }
}

/**
 * Says what of this page anyone can read without the token (the public `GET /v1/status`).
 * @param {DashboardStatus} s
 */
function renderViewNote(s) {
  const quorum = s.publicQuorum ?? s.config.minClients
  const hidden = s.history.filter((r) => r.participants < quorum).length
  stat(
    'viewNote',
    `Operator view. Without the token, GET /v1/status shows anyone the model, the round settings, ε, the rounds closed with at least ${quorum} participants and the evaluations of versions that no longer take reports — not the open round's participants and samples, the ${integer.format(hidden)} rounds closed below ${quorum} (marked "operator only" below), the rejected updates or the evaluations still coming in.`,
    quorum,
  )
}

/** @param {Readonly<Record<string, number>>} rejections */
function renderRejections(rejections) {
  const rows = rejectionRows(rejections).map(([code, n]) => {
    const tr = document.createElement('tr')
    tr.dataset.reason = code
    tr.append(cell(code), cell(integer.format(n), 'num'))
    return tr
  })
  byId('rejections').replaceChildren(...(rows.length ? rows : [placeholderRow('None so far', 2)]))
}

/** @param {DashboardStatus} s */
function renderRounds(s) {
  const recent = s.history.slice(-10).reverse()
  const norm = (/** @type {number} */ x) => x.toPrecision(3)
  const quorum = s.publicQuorum ?? s.config.minClients
  const rows = recent.map((r) => {
    const tr = document.createElement('tr')
    tr.dataset.round = String(r.round)
    // Below the quorum a round's numbers are a few clients' own: the public status leaves it out.
    const visible = r.participants >= quorum
    tr.dataset.public = String(visible)
    tr.append(
      cell(String(r.round), 'num'),
      cell(new Date(r.closedAt).toLocaleTimeString('en-GB')),
      cell(visible ? r.closedBy : `${r.closedBy} · operator only`),
      cell(integer.format(r.participants), 'num'),
      cell(integer.format(r.samples), 'num'),
      cell(norm(r.updateNorm), 'num'),
      cell(`${norm(r.clientUpdateNorm.mean)} / ${norm(r.clientUpdateNorm.max)}`, 'num'),
    )
    return tr
  })
  byId('rounds').replaceChildren(...(rows.length ? rows : [placeholderRow('No round closed yet', 7)]))
}

/**
 * A table's one row when it has nothing to list.
 * @param {string} text
 * @param {number} columns
 */
function placeholderRow(text, columns) {
  const tr = document.createElement('tr')
  const td = cell(text)
  td.colSpan = columns
  tr.append(td)
  return tr
}

/**
 * @param {string} text
 * @param {string} [className]
 */
function cell(text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  return td
}

authForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const input = authForm.querySelector('input')
  const token = input?.value.trim() ?? ''
  if (!token) return
  sessionStorage.setItem(TOKEN_KEY, token)
  if (input) input.value = ''
  authMessage.textContent = ''
  auth.hidden = true
  setLive('connecting', 'Connecting…')
  start()
})

signOut.addEventListener('click', () =>
  askForToken('Token forgotten. Paste it again to reopen the dashboard.'),
)

document.addEventListener('visibilitychange', () => {
  // A hidden tab stops asking; coming back asks at once.
  if (document.hidden) {
    stop()
    if (live.dataset.state === 'live') setLive('paused', 'Paused while the tab is hidden')
  } else if (sessionStorage.getItem(TOKEN_KEY)) start()
})

window.addEventListener('resize', () => charts?.resize())

if (takeToken()) start()
else askForToken('')
