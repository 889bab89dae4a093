// Node clients of secure aggregation for the tests: @fedrec/core's real client over real HTTP, one step
// at a time, so a test can stop any member after any phase (not part of the public entry).
import { createSecAggClient, encodeSecAggVector, type SecAggClient, secAggVectorLength } from '@fedrec/core'
import {
  encodeMaskedInput,
  newRandomId,
  parseSecAggAck,
  parseSecAggJoinAck,
  parseSecAggState,
  parseSecAggView,
  SECAGG_MASKED_MEDIA_TYPE,
  type SecAggAck,
  type SecAggPhase,
  type SecAggView,
  type TensorDelta,
} from '@fedrec/protocol'

/** One member of a cohort as a test drives it. */
export interface TestMember {
  clientId: string
  token: string
  id: number
  cohort: number
  sessionId: string
  client: SecAggClient
  /** The last view of the cohort this member fetched. */
  view?: SecAggView
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
})
const auth = (m: TestMember) => ({ Authorization: `Bearer ${m.token}` })

/** POST/GET and the parsed JSON answer; throws with the status and error body unless 200. */
async function call(url: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(url, init)
  const text = await res.text()
  if (res.status !== 200)
    throw Object.assign(new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${text}`), {
      status: res.status,
      body: text,
    })
  return JSON.parse(text)
}

/** `GET /v1/secagg`. */
export const secAggState = async (url: string) => parseSecAggState(await call(`${url}/v1/secagg`))

/**
 * Joins the forming cohort of the open round with a fresh core client (AdvertiseKeys); draws another id if
 * the drawn one is taken.
 */
export async function joinCohort(url: string, options: { clientId?: string } = {}): Promise<TestMember> {
  const state = await secAggState(url)
  const round = (await call(`${url}/v1/round`)) as {
    round: number
    modelVersion: number
    numItems: number
    dim: number
  }
  for (;;) {
    const id = 1 + Math.floor(Math.random() * 65_535)
    const client = await createSecAggClient({
      sessionId: state.sessionId,
      id,
      vectorLength: secAggVectorLength(round.numItems, round.dim),
      minClients: state.config.minCohort,
    })
    const keys = await client.advertiseKeys()
    const member = { clientId: options.clientId ?? newRandomId(), token: newRandomId() }
    const res = await fetch(
      `${url}/v1/secagg/join`,
      json({
        round: round.round,
        modelVersion: round.modelVersion,
        cohort: state.cohort,
        clientId: member.clientId,
        id,
        token: member.token,
        cPublicKey: keys.cPublicKey,
        sPublicKey: keys.sPublicKey,
      }),
    )
    const body: unknown = await res.json()
    if (res.status === 409 && JSON.stringify(body).includes('id_taken')) continue
    if (res.status !== 200) throw new Error(`join: ${res.status} ${JSON.stringify(body)}`)
    const ack = parseSecAggJoinAck(body)
    return { ...member, id: ack.id, cohort: ack.cohort, sessionId: ack.sessionId, client }
  }
}

/** `GET …/me`. */
export async function viewOf(url: string, m: TestMember): Promise<SecAggView> {
  m.view = parseSecAggView(await call(`${url}/v1/secagg/cohorts/${m.cohort}/me`, { headers: auth(m) }))
  return m.view
}

/** Polls `…/me` until the cohort is in `phase` (or has ended), at most `timeoutMs`. */
export async function waitForPhase(
  url: string,
  m: TestMember,
  phase: SecAggPhase,
  timeoutMs = 20_000,
): Promise<SecAggView> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const view = await viewOf(url, m)
    if (view.phase === phase || view.phase === 'done' || view.phase === 'aborted') return view
    if (Date.now() > until)
      throw new Error(`cohort ${m.cohort} stayed in phase ${view.phase}, waited for ${phase}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** ShareKeys from the roster of the member's last view. */
export async function postShares(url: string, m: TestMember): Promise<SecAggAck> {
  const view = m.view?.phase === 'share' ? m.view : await waitForPhase(url, m, 'share')
  if (!view.roster) throw new Error(`no roster in phase ${view.phase}`)
  const { seedCommitment, shares } = await m.client.shareKeys({
    type: 'roster',
    sessionId: m.sessionId,
    threshold: view.threshold,
    clients: view.roster,
  })
  return parseSecAggAck(
    await call(`${url}/v1/secagg/cohorts/${m.cohort}/shares`, {
      ...json({ seedCommitment, shares }),
      headers: { 'Content-Type': 'application/json', ...auth(m) },
    }),
  )
}

/** Quantises a plain update as the layout wants it (weight n_k, touched rows, n_k·Δ). */
export function secAggVector(
  deltas: readonly TensorDelta[],
  sampleCount: number,
  numItems: number,
  dim: number,
): Uint32Array {
  return encodeSecAggVector({ deltas, weight: sampleCount, numItems, dim }).vector
}

/** The masked input of `vector`, from the member's inbox (waits for the mask phase). */
export async function maskedBody(url: string, m: TestMember, vector: Uint32Array): Promise<Uint8Array> {
  const view = await waitForPhase(url, m, 'mask')
  if (!view.inbox) throw new Error(`no inbox in phase ${view.phase}`)
  const { masked } = await m.client.maskInput(
    { type: 'share-inbox', sessionId: m.sessionId, to: m.id, shares: view.inbox },
    vector,
  )
  return encodeMaskedInput(masked)
}

/** `POST …/masked` with raw bytes. */
export const postMaskedBytes = (url: string, m: TestMember, body: Uint8Array) =>
  fetch(`${url}/v1/secagg/cohorts/${m.cohort}/masked`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': SECAGG_MASKED_MEDIA_TYPE, ...auth(m) },
  })

/** Masks and uploads `vector`. */
export async function postMasked(url: string, m: TestMember, vector: Uint32Array): Promise<SecAggAck> {
  const res = await postMaskedBytes(url, m, await maskedBody(url, m, vector))
  if (res.status !== 200) throw new Error(`masked: ${res.status} ${await res.text()}`)
  return parseSecAggAck(await res.json())
}

/** Answers the unmasking request (waits for the unmask phase); null when the cohort already ended. */
export async function postUnmask(url: string, m: TestMember): Promise<SecAggAck | null> {
  const view = await waitForPhase(url, m, 'unmask')
  if (view.phase !== 'unmask') return null
  const { selfMaskShares, keyShares } = await m.client.unmask({
    type: 'unmask-request',
    sessionId: m.sessionId,
    survivors: view.survivors ?? [],
    dropped: view.dropped ?? [],
  })
  const res = await fetch(`${url}/v1/secagg/cohorts/${m.cohort}/unmask`, {
    ...json({ selfMaskShares, keyShares }),
    headers: { 'Content-Type': 'application/json', ...auth(m) },
  })
  if (res.status === 409) return null // the cohort had the shares it needed already
  if (res.status !== 200) throw new Error(`unmask: ${res.status} ${await res.text()}`)
  return parseSecAggAck(await res.json())
}
