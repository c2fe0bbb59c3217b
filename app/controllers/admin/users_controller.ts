import type { HttpContext } from '@adonisjs/core/http'
import { listReturnPath } from '#services/redirects'
import userAdmin from '#services/user_admin_service'
import { banValidator, userFiltersValidator, userRoleValidator } from '#validators/admin'

/** Admin → Users: search, roles, bans. The rules live in the user admin service. */
export default class AdminUsersController {
  async index({ view, request, auth }: HttpContext) {
    const filters = await userFiltersValidator.validate(request.qs())
    const users = await userAdmin.search(filters)
    users.baseUrl('/admin/users')
    users.queryString({ q: filters.q, role: filters.role })
    return view.render('pages/admin/users', { users, filters, me: auth.getUserOrFail() })
  }

  async role({ params, request, response, session, auth }: HttpContext) {
    const { role } = await request.validateUsing(userRoleValidator)
    await userAdmin.changeRole(auth.getUserOrFail(), Number(params.id), role)
    session.flash('success', `Role changed to ${role}.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/users'))
  }

  async ban({ params, request, response, session, auth }: HttpContext) {
    const { reason } = await request.validateUsing(banValidator)
    const user = await userAdmin.ban(auth.getUserOrFail(), Number(params.id), reason)
    session.flash('success', `${user.username} is banned: logged out and their playback stopped.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/users'))
  }

  async unban({ params, response, session, auth, request }: HttpContext) {
    const user = await userAdmin.unban(auth.getUserOrFail(), Number(params.id))
    session.flash('success', `${user.username} may log in again.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/users'))
  }
}
