import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

/**
 * Referrer-Policy. Site-wide `same-origin`: other sites never learn which
 * page a visitor came from, while this site's own forms keep the Referer
 * that "send the form back with its errors" relies on (site-wide
 * `no-referrer` would send every refused form to the home page). Pages whose
 * URL holds a secret (a password reset link, signed playback URLs) use
 * `{ policy: 'no-referrer' }` on their routes: not even this site's own
 * requests carry their URL.
 */
export default class ReferrerPolicyMiddleware {
  async handle(ctx: HttpContext, next: NextFn, options: { policy?: 'same-origin' | 'no-referrer' } = {}) {
    ctx.response.header('Referrer-Policy', options.policy ?? 'same-origin')
    return next()
  }
}
