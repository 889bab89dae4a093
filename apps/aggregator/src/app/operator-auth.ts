// The bearer-token check that guards every operator endpoint.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { HttpError } from '../errors.ts'

/**
 * Lets a request through only with `Authorization: Bearer <token>`; otherwise 401 `unauthorized`.
 * Compares digests in constant time, so the answer's timing does not leak the token.
 * @example app.post('/v1/catalogue', operatorAuth(token), handler)
 */
export function operatorAuth(token: string): MiddlewareHandler {
  const expected = digest(token)
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="fedrec-aggregator"')
      throw new HttpError(
        401,
        'unauthorized',
        'this endpoint needs the operator token: Authorization: Bearer <token>',
      )
    }
    await next()
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()
