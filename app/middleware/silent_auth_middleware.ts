import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import webSessions from '#services/accounts/web_sessions'

/**
 * Finds out who is logged in, if anyone, on every request; the request goes
 * on either way. A session that may no longer act for its user is ended
 * here, so this request is already a guest's.
 */
export default class SilentAuthMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    await ctx.auth.check()
    const user = ctx.auth.user
    // A ban ends every session at once.
    if (user?.bannedAt) return this.#endSession(ctx, next, 'This account is banned.')
    // The password was changed or reset elsewhere: every other browser logs in again.
    if (user && ctx.session && !webSessions.isCurrent(ctx.session, user)) {
      return this.#endSession(ctx, next, 'Your password was changed, so you were logged out here. Log in with the new password.')
    }
    return next()
  }

  /**
   * Logs out and says why. A page view is sent to itself again, so the page
   * that shows the message is already a guest's; other requests go on as a
   * guest's (a form post then meets the login page, which shows it).
   */
  async #endSession(ctx: HttpContext, next: NextFn, reason: string) {
    await ctx.auth.use('web').logout()
    ctx.session?.flash('error', reason)
    if (ctx.request.method() === 'GET' && ctx.request.accepts(['html', 'json']) === 'html') {
      return ctx.response.redirect().toPath(ctx.request.url(true))
    }
    return next()
  }
}
