// The HTTP face of secure aggregation: the routes a cohort's members join, exchange shares and upload masked
// inputs through; the protocol itself is the coordinator's.
import {
  parseSecAggJoin,
  parseSecAggShares,
  parseSecAggUnmask,
  SECAGG_MASKED_MEDIA_TYPE,
  SECAGG_MAX_COHORT,
} from '@fedrec/protocol'
import { type Context, Hono } from 'hono'
import type { Aggregator } from '../aggregator/index.ts'
import { HttpError } from '../errors.ts'
import type { SecAggCoordinator } from '../secagg/coordinator.ts'
import { SecAggRefusal } from '../secagg/errors.ts'
import { limitByAddress } from './rate-limit.ts'
import { countRejections, DEFAULT_IP_RATE, limitBody } from './updates.ts'

/** A join is two keys and three ids. */
const MAX_JOIN_BYTES = 4096
/** Shares for, or of, every other member of the largest cohort: a few hundred bytes each. */
const MAX_SHARES_BYTES = SECAGG_MAX_COHORT * 1024

/**
 * The secure-aggregation endpoints (mounted only with `--secure-aggregation`; docs/aggregator.md):
 * - `GET /secagg` → SecAggState of the cohort forming or running now;
 * - `POST /secagg/join` (AdvertiseKeys, JSON SecAggJoin) → SecAggJoinAck;
 * - `GET /secagg/cohorts/:cohort/me` → SecAggView (the roster, the member's inbox, U2/U3 by phase);
 * - `POST /secagg/cohorts/:cohort/shares` (ShareKeys, JSON) → SecAggAck;
 * - `POST /secagg/cohorts/:cohort/masked` (SECAGG_MASKED_MEDIA_TYPE) → SecAggAck;
 * - `POST /secagg/cohorts/:cohort/unmask` (JSON) → SecAggAck.
 * Member requests carry `Authorization: Bearer <token>` (the token of the join). Every post is durable
 * before it is answered; the same post again gets `duplicate: true`, a different one `already_sent`.
 */
export function secAggRoutes(
  aggregator: Aggregator,
  secagg: SecAggCoordinator,
  limits: { maxBodyBytes: number; ipRatePerMinute?: number | undefined },
): Hono {
  const perAddress = limitByAddress(limits.ipRatePerMinute ?? DEFAULT_IP_RATE)
  const counted = countRejections(aggregator)
  return new Hono()
    .get('/secagg', async (c) => {
      c.header('Cache-Control', 'no-store')
      return c.json(await secagg.state())
    })
    .post('/secagg/join', counted, perAddress, limitBody(MAX_JOIN_BYTES), async (c) =>
      c.json(await secagg.join(parseSecAggJoin(await jsonBody(c)))),
    )
    .get('/secagg/cohorts/:cohort/me', async (c) => {
      c.header('Cache-Control', 'no-store')
      return c.json(await secagg.view(cohortParam(c), bearer(c)))
    })
    .post('/secagg/cohorts/:cohort/shares', counted, perAddress, limitBody(MAX_SHARES_BYTES), async (c) => {
      const cohort = cohortParam(c)
      return c.json(await secagg.shares(cohort, bearer(c), parseSecAggShares(await jsonBody(c))))
    })
    .post(
      '/secagg/cohorts/:cohort/masked',
      counted,
      perAddress,
      limitBody(limits.maxBodyBytes),
      async (c) => {
        const cohort = cohortParam(c)
        const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase()
        if (type !== SECAGG_MASKED_MEDIA_TYPE)
          throw new HttpError(
            415,
            'unsupported_media_type',
            `masked inputs must be sent as ${SECAGG_MASKED_MEDIA_TYPE}, got ${JSON.stringify(type ?? null)}`,
          )
        const bytes = new Uint8Array(await c.req.arrayBuffer())
        return c.json(await secagg.masked(cohort, bearer(c), bytes))
      },
    )
    .post('/secagg/cohorts/:cohort/unmask', counted, perAddress, limitBody(MAX_SHARES_BYTES), async (c) => {
      const cohort = cohortParam(c)
      return c.json(await secagg.unmask(cohort, bearer(c), parseSecAggUnmask(await jsonBody(c))))
    })
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json()
  } catch (err) {
    throw new HttpError(400, 'bad_json', 'the body must be JSON', { cause: err })
  }
}

function cohortParam(c: Context): number {
  const raw = c.req.param('cohort') ?? ''
  const n = Number(raw)
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n))
    throw new SecAggRefusal('unknown_cohort', `cohort must be a number, got ${JSON.stringify(raw)}`)
  return n
}

/** The member's token from `Authorization: Bearer <32 hex digits>`; undefined when absent or malformed. */
function bearer(c: Context): string | undefined {
  const match = /^Bearer ([0-9a-f]{32})$/.exec(c.req.header('authorization')?.trim() ?? '')
  return match?.[1]
}
