import { describe, expect, it } from 'vitest'
import { createRateLimiter } from './rate-limit.ts'

describe('createRateLimiter', () => {
  it('lets a burst through, then refills at the rate, per key', () => {
    let t = 0
    const limiter = createRateLimiter({ perMinute: 6, burst: 2, now: () => t })
    expect(limiter.take('a')).toEqual({ ok: true })
    expect(limiter.take('a')).toEqual({ ok: true })
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 })
    expect(limiter.take('b')).toEqual({ ok: true })
    t += 4_000
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 6 })
    t += 6_000
    expect(limiter.take('a')).toEqual({ ok: true })
  })

  it('is off at 0 per minute', () => {
    const limiter = createRateLimiter({ perMinute: 0 })
    for (let i = 0; i < 100; i++) expect(limiter.take('a').ok).toBe(true)
    expect(limiter.size).toBe(0)
  })

  it('keeps at most maxKeys keys, however many distinct ones arrive', () => {
    const limiter = createRateLimiter({ perMinute: 1, maxKeys: 100, now: () => 0 })
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`)
    expect(limiter.size).toBeLessThanOrEqual(100)
    // The newest key is still limited: a flood of new keys does not reset the ones in use.
    expect(limiter.take('k9999').ok).toBe(false)
  })
})
