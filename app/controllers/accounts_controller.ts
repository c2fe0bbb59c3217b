import type { HttpContext } from '@adonisjs/core/http'
import { changePasswordValidator } from '#validators/account'
import accounts from '#services/account_service'
import app from '@adonisjs/core/services/app'
import webSessions from '#services/accounts/web_sessions'

export default class AccountsController {
  async show({ view }: HttpContext) {
    return view.render('pages/account/show', { creatorApproval: app.config.get('accounts.creatorApproval') })
  }

  async updatePassword({ request, response, auth, session }: HttpContext) {
    const user = auth.getUserOrFail()
    const { current_password: currentPassword, password } = await request.validateUsing(changePasswordValidator, {
      meta: { userInputs: [user.username, user.email] },
    })
    await accounts.changePassword(user, currentPassword, password)
    // This browser stays logged in; every other one is logged out on its next request.
    webSessions.remember(session, user)
    session.flash('success', 'Your password was changed. Your other browsers and players were logged out.')
    return response.redirect('/account')
  }

  async applyForCreator({ response, auth, session }: HttpContext) {
    const outcome = await accounts.applyForCreator(auth.getUserOrFail())
    session.flash(
      'success',
      outcome === 'approved'
        ? 'You are a creator now: your studio is open.'
        : 'Thanks! An admin will review your creator application.'
    )
    return response.redirect(outcome === 'approved' ? '/studio/videos' : '/account')
  }
}
