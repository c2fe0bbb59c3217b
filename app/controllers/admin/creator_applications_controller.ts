import type { HttpContext } from '@adonisjs/core/http'
import { listReturnPath } from '#services/redirects'
import accounts from '#services/account_service'
import userAdmin from '#services/user_admin_service'

/** Admin → Creator applications: the rules (and the audit) live in the user admin service. */
export default class CreatorApplicationsController {
  async index({ view }: HttpContext) {
    const applications = await accounts.pendingCreatorApplications()
    return view.render('pages/admin/creator_applications', { applications })
  }

  async approve({ params, response, session, auth, request }: HttpContext) {
    const user = await userAdmin.decideCreatorApplication(auth.getUserOrFail(), Number(params.id), 'approve')
    session.flash('success', `${user.username} is now a creator.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/creator-applications'))
  }

  async reject({ params, response, session, auth, request }: HttpContext) {
    const user = await userAdmin.decideCreatorApplication(auth.getUserOrFail(), Number(params.id), 'reject')
    session.flash('success', `${user.username}'s application was declined.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/creator-applications'))
  }
}
