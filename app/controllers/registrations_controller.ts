import type { HttpContext } from '@adonisjs/core/http'
import { registerValidator } from '#validators/account'
import accounts from '#services/account_service'

export default class RegistrationsController {
  async create({ view }: HttpContext) {
    return view.render('pages/auth/register')
  }

  async store({ request, response, auth, session }: HttpContext) {
    const data = await request.validateUsing(registerValidator)
    const user = await accounts.register(data)
    await auth.use('web').login(user)
    session.flash('success', `Welcome to Matinee, ${user.username}!`)
    return response.redirect('/')
  }
}
