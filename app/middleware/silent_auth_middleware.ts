import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import webSessions from '#services/accounts/web_sessions'

/**
 * Finds out who is logged in, if anyone, on every request; the request goes
 * on either way. A session that may no longer act for its user is ended
 * here, so this request is already a guest's (a page that needs a login
 * sends it to the login page, which says why).
 */
export default class SilentAuthMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    await ctx.auth.check()
    const user = ctx.auth.user
    // A ban ends every session at once.
    if (user?.bannedAt) {
      await ctx.auth.use('web').logout()
      ctx.session?.flash('error', 'This account is banned.')
    } else if (user && ctx.session && !webSessions.isCurrent(ctx.session, user)) {
      // The password was changed or reset elsewhere: every other browser logs in again.
      await ctx.auth.use('web').logout()
      // In the errors bag, which the login page's "please log in" message adds to rather than replaces.
      ctx.session.flashErrors({ E_PASSWORD_CHANGED: 'Your password was changed, so you were logged out here. Log in with the new password.' })
    }
    return next()
  }
}
