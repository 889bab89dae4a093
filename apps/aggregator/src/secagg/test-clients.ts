// Node clients of secure aggregation for the tests: @fedrec/core's real client over real HTTP, one step
// at a time, so a test can stop any member after any phase (not part of the public entry). They speak
// through the protocol client without retries, so every answer reaches the test as it came.
import {
  createSecAggClient,
  encodeSecAggVector,
  type SecAggClient,
  secAggVectorLength,
} from '@fedrec/core/client'
import {
  createProtocolClient,
  encodeMaskedInput,
  isRefusal,
  newRandomId,
  type ProtocolClient,
  RejectedError,
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

/**
 * The protocol client of the aggregator at `url`, without retries: a test sees every answer as it came
 * (anything but a 2xx throws the client's RejectedError or ClientError).
 */
export const clientOf = (url: string): ProtocolClient<Response> =>
  createProtocolClient({
    baseUrl: url,
    fetch: (href, init) => fetch(href, init),
    retry: { retries: 0, baseDelayMs: 0 },
  })

/** `GET /v1/secagg`. */
export const secAggState = (url: string) => clientOf(url).secagg.state()

/**
 * Joins the forming cohort of the open round with a fresh core client (AdvertiseKeys); draws another id if
 * the drawn one is taken. `numFeatures`: the feature rows of the model, when it has a feature table (a
 * browser reads them from the model it downloaded).
 */
export async function joinCohort(
  url: string,
  options: { clientId?: string; numFeatures?: number } = {},
): Promise<TestMember> {
  const api = clientOf(url)
  const state = await api.secagg.state()
  const round = await api.roundInfo()
  for (;;) {
    const id = 1 + Math.floor(Math.random() * 65_535)
    const client = await createSecAggClient({
      sessionId: state.sessionId,
      id,
      vectorLength: secAggVectorLength(round.numItems, round.dim, options.numFeatures),
      minClients: state.config.minCohort,
    })
    const keys = await client.advertiseKeys()
    const member = { clientId: options.clientId ?? newRandomId(), token: newRandomId() }
    try {
      const ack = await api.secagg.join({
        round: round.round,
        modelVersion: round.modelVersion,
        cohort: state.cohort,
        clientId: member.clientId,
        id,
        token: member.token,
        cPublicKey: keys.cPublicKey,
        sPublicKey: keys.sPublicKey,
      })
      return { ...member, id: ack.id, cohort: ack.cohort, sessionId: ack.sessionId, client }
    } catch (err) {
      if (isRefusal(err, ['id_taken'])) continue
      throw err
    }
  }
}

/** `GET …/me`. */
export async function viewOf(url: string, m: TestMember): Promise<SecAggView> {
  m.view = await clientOf(url).secagg.view(m.cohort, m.token)
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
  return clientOf(url).secagg.postShares(m.cohort, m.token, { seedCommitment, shares })
}

/** Quantises a plain update as the layout wants it (weight n_k, touched rows, n_k·Δ; feature rows after F). */
export function secAggVector(
  deltas: readonly TensorDelta[],
  sampleCount: number,
  numItems: number,
  dim: number,
  numFeatures?: number,
): Uint32Array {
  return encodeSecAggVector({ deltas, weight: sampleCount, numItems, dim, numFeatures }).vector
}

/** The masked input of `vector`, from the member's inbox (waits for the mask phase). */
export async function maskedBody(
  url: string,
  m: TestMember,
  vector: Uint32Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const view = await waitForPhase(url, m, 'mask')
  if (!view.inbox) throw new Error(`no inbox in phase ${view.phase}`)
  const { masked } = await m.client.maskInput(
    { type: 'share-inbox', sessionId: m.sessionId, to: m.id, shares: view.inbox },
    vector,
  )
  return encodeMaskedInput(masked)
}

/** `POST …/masked` with raw bytes; the answer as it came. */
export const postMaskedBytes = (url: string, m: TestMember, body: Uint8Array) =>
  clientOf(url).send(`v1/secagg/cohorts/${m.cohort}/masked`, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'Content-Type': SECAGG_MASKED_MEDIA_TYPE, Authorization: `Bearer ${m.token}` },
  })

/** Masks and uploads `vector`. */
export async function postMasked(url: string, m: TestMember, vector: Uint32Array): Promise<SecAggAck> {
  return clientOf(url).secagg.postMasked(m.cohort, m.token, await maskedBody(url, m, vector))
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
  try {
    return await clientOf(url).secagg.postUnmask(m.cohort, m.token, { selfMaskShares, keyShares })
  } catch (err) {
    if (err instanceof RejectedError && err.status === 409) return null // the cohort had the shares it needed already
    throw err
  }
}
