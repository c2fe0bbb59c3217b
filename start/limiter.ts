/*
| Rate limits on routes. The limits themselves (names, numbers, the
| RATE_LIMIT_* variables) are in config/limiter.ts; counting is in
| app/services/rate_limit_service.ts (Redis store: shared by every web node).
| Over a limit the request gets 429 with Retry-After and a sentence, before
| its controller runs. Logins and registrations count inside their
| controllers instead, as only failed logins and created accounts count.
*/
import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { rateLimits as limits, type RateLimitName } from '#config/limiter'
import rateLimits from '#services/rate_limit_service'

/**
 * Counts each request against `limit`: per account for logged-in users (one
 * person behind a shared address is not punished for the others), else per
 * client address (`request.ip()`, which believes X-Forwarded-For only from
 * TRUSTED_PROXIES). `methods` restricts it to some methods of a route.
 */
export function throttle(limit: RateLimitName, options: { by?: 'user' | 'address'; methods?: string[] } = {}) {
  return async function rateLimit(ctx: HttpContext, next: NextFn) {
    if (!options.methods || options.methods.includes(ctx.request.method())) {
      const user = options.by === 'address' ? undefined : ctx.auth.user
      await rateLimits.consume(limit, user ? `user_${user.id}` : `ip_${ctx.request.ip()}`)
    }
    return next()
  }
}

export const registerFormThrottle = throttle('registerForm', { by: 'address' })
export const passwordResetThrottle = throttle('passwordReset', { by: 'address' })
export const checkoutThrottle = throttle('checkout')
export const playbackOpenThrottle = throttle('playbackOpen')
/** tus: only POST creates an upload; its PATCH chunks and HEAD offsets are not counted. */
export const uploadCreateThrottle = throttle('uploadCreate', { methods: ['POST'] })

/** A throttle by the limit's documented name (`crypto_quote`), for plugin routes. */
export function throttleNamed(name: string) {
  const entry = Object.entries(limits).find(([, limit]) => limit.name === name)
  if (!entry) throw new Error(`There is no rate limit named "${name}" (see config/limiter.ts)`)
  return throttle(entry[0] as RateLimitName)
}
