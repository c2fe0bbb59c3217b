import type { HttpContext } from '@adonisjs/core/http'
import User from '#models/user'
import accounts from '#services/account_service'

export default class CreatorApplicationsController {
  async index({ view }: HttpContext) {
    const applications = await accounts.pendingCreatorApplications()
    return view.render('pages/admin/creator_applications', { applications })
  }

  async approve({ params, response, session }: HttpContext) {
    const user = await User.findOrFail(params.id)
    await accounts.approveCreator(user)
    session.flash('success', `${user.username} is now a creator.`)
    return response.redirect('/admin/creator-applications')
  }

  async reject({ params, response, session }: HttpContext) {
    const user = await User.findOrFail(params.id)
    await accounts.rejectCreator(user)
    session.flash('success', `${user.username}'s application was declined.`)
    return response.redirect('/admin/creator-applications')
  }
}
