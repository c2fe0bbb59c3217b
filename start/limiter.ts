/*
| HTTP rate limits for the account forms (Redis store: shared by every web
| node). Exceeding one answers 429 with a Retry-After header.
*/
import limiter from '@adonisjs/limiter/services/main'
import accountsConfig from '#config/accounts'

const { limits } = accountsConfig

export const registerThrottle = limiter.define('register', (ctx) =>
  limiter.allowRequests(limits.register.requests).every(limits.register.per).usingKey(`ip_${ctx.request.ip()}`)
)

export const passwordResetThrottle = limiter.define('password_reset', (ctx) =>
  limiter.allowRequests(limits.passwordReset.requests).every(limits.passwordReset.per).usingKey(`ip_${ctx.request.ip()}`)
)

/**
 * Failed logins only: counted per client IP and identifier, then blocked for
 * a while; a successful login does not use up the allowance.
 */
export const loginFailures = () =>
  limiter.use({
    requests: limits.login.requests,
    duration: limits.login.per,
    blockDuration: limits.login.blockFor,
  })
