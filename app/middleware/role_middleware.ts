import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import type { Role } from '#models/user'

/**
 * Lets through users holding one of the roles (admins hold every role).
 * Runs after `auth`, which already sent logged-out visitors to the login page.
 */
export default class RoleMiddleware {
  async handle(ctx: HttpContext, next: NextFn, options: { roles: Role[] }) {
    const user = ctx.auth.getUserOrFail()
    if (!user.hasRole(...options.roles)) {
      ctx.response.status(403)
      return ctx.response.send(
        await ctx.view.render('pages/errors/forbidden', {
          reason: `This page is for ${options.roles.join(' or ')} accounts.`,
        })
      )
    }
    return next()
  }
}
