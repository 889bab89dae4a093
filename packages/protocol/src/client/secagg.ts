// The secure-aggregation endpoints (/v1/secagg…): one typed request each; the cohort logic is the caller's.
import {
  parseSecAggAck,
  parseSecAggJoinAck,
  parseSecAggState,
  parseSecAggView,
  SECAGG_MASKED_MEDIA_TYPE,
  type SecAggAck,
  type SecAggJoin,
  type SecAggJoinAck,
  type SecAggShares,
  type SecAggState,
  type SecAggUnmask,
  type SecAggView,
} from '../secagg-messages.ts'
import { type Meter, type Requester, readJson } from './request.ts'

/** The requests of one member of a cohort; `token` is the bearer token it joined with. */
export interface SecAggRequests {
  /** `GET /v1/secagg`: the open round's cohort and its phase. */
  state(meter?: Meter): Promise<SecAggState>
  /** `POST /v1/secagg/join`. */
  join(body: SecAggJoin, meter?: Meter): Promise<SecAggJoinAck>
  /** `GET /v1/secagg/cohorts/:cohort/me`: the cohort as this member sees it. */
  view(cohort: number, token: string, meter?: Meter): Promise<SecAggView>
  /** `POST …/shares`: ShareKeys. */
  postShares(cohort: number, token: string, body: SecAggShares, meter?: Meter): Promise<SecAggAck>
  /** `POST …/masked`: the masked input, as `encodeMaskedInput` wrote it. */
  postMasked(cohort: number, token: string, body: Uint8Array<ArrayBuffer>, meter?: Meter): Promise<SecAggAck>
  /** `POST …/unmask`: this member's answer to the unmasking request. */
  postUnmask(cohort: number, token: string, body: SecAggUnmask, meter?: Meter): Promise<SecAggAck>
}

export function createSecAggRequests(request: Requester): SecAggRequests {
  const member = (cohort: number) => `v1/secagg/cohorts/${cohort}`
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  const getJson = async (path: string, headers: Record<string, string>, meter?: Meter) =>
    readJson(await request(path, { headers, cache: 'no-store' }, meter), meter)
  const postJson = async (path: string, body: unknown, headers: Record<string, string>, meter?: Meter) =>
    readJson(
      await request(
        path,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
          cache: 'no-store',
        },
        meter,
      ),
      meter,
    )
  return {
    state: async (meter) => parseSecAggState(await getJson('v1/secagg', {}, meter)),
    join: async (body, meter) => parseSecAggJoinAck(await postJson('v1/secagg/join', body, {}, meter)),
    view: async (cohort, token, meter) =>
      parseSecAggView(await getJson(`${member(cohort)}/me`, bearer(token), meter)),
    postShares: async (cohort, token, body, meter) =>
      parseSecAggAck(await postJson(`${member(cohort)}/shares`, body, bearer(token), meter)),
    postMasked: async (cohort, token, body, meter) => {
      const init = {
        method: 'POST',
        headers: { 'content-type': SECAGG_MASKED_MEDIA_TYPE, ...bearer(token) },
        body,
        cache: 'no-store' as const,
      }
      return parseSecAggAck(await readJson(await request(`${member(cohort)}/masked`, init, meter), meter))
    },
    postUnmask: async (cohort, token, body, meter) =>
      parseSecAggAck(await postJson(`${member(cohort)}/unmask`, body, bearer(token), meter)),
  }
}
