import type { HttpContext } from '@adonisjs/core/http'
import { registerValidator } from '#validators/account'
import accounts from '#services/account_service'
import rateLimits from '#services/rate_limit_service'
import webSessions from '#services/accounts/web_sessions'

export default class RegistrationsController {
  async create({ view }: HttpContext) {
    return view.render('pages/auth/register')
  }

  /**
   * Only accounts actually created count against the `register` limit: a
   * form sent back with errors costs nothing (the looser `register_form`
   * limit on the route bounds how fast anyone can probe taken emails).
   */
  async store({ request, response, auth, session }: HttpContext) {
    const address = `ip_${request.ip()}`
    await rateLimits.ensureAllowed('register', address)
    const data = await request.validateUsing(registerValidator)
    const user = await accounts.register(data)
    await rateLimits.count('register', address)
    await auth.use('web').login(user)
    webSessions.remember(session, user)
    session.flash('success', `Welcome to Matinee, ${user.username}!`)
    return response.redirect('/')
  }
}
