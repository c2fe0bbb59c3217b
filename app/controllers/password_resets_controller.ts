import type { HttpContext } from '@adonisjs/core/http'
import { errors as vineErrors } from '@vinejs/vine'
import { forgotPasswordValidator, resetPasswordValidator } from '#validators/account'
import passwordResets, { InvalidResetTokenError } from '#services/password_reset_service'

export default class PasswordResetsController {
  async create({ view }: HttpContext) {
    return view.render('pages/auth/forgot_password')
  }

  async store({ request, response, session }: HttpContext) {
    const { email } = await request.validateUsing(forgotPasswordValidator)
    await passwordResets.request(email)
    session.flash('success', 'If an account uses that email, a reset link is on its way. It expires soon and works once.')
    return response.redirect('/login')
  }

  async edit({ params, view, response }: HttpContext) {
    const usable = await passwordResets.isUsable(String(params.token))
    if (!usable) response.status(410)
    return view.render('pages/auth/reset_password', { token: params.token, usable })
  }

  async update({ request, response, session }: HttpContext) {
    // The strength check counts the account's own username and email as easy words.
    const owner = await passwordResets.ownerOf(String(request.input('token', '')))
    let token: string, password: string
    try {
      ;({ token, password } = await request.validateUsing(resetPasswordValidator, {
        meta: { userInputs: owner ? [owner.username, owner.email] : [] },
      }))
    } catch (error) {
      // The reset page sends no Referer (its URL is the secret), so "back" is unknown: name the page.
      if (!(error instanceof vineErrors.E_VALIDATION_ERROR) || !owner) throw error
      session.flashValidationErrors(error)
      return response.redirect().toPath(`/reset-password/${encodeURIComponent(String(request.input('token')))}`)
    }
    try {
      await passwordResets.reset(token, password)
    } catch (error) {
      if (!(error instanceof InvalidResetTokenError)) throw error
      session.flash('error', error.message)
      return response.redirect('/forgot-password')
    }
    session.flash('success', 'Your password was changed. Log in with the new one.')
    return response.redirect('/login')
  }
}
