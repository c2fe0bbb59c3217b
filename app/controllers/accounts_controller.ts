import type { HttpContext } from '@adonisjs/core/http'
import { changePasswordValidator } from '#validators/account'
import accounts from '#services/account_service'
import app from '@adonisjs/core/services/app'
import webSessions from '#services/accounts/web_sessions'
import profiles from '#services/accounts/profiles'
import { profileValidator } from '#validators/catalog'
import apiTokens, { API_SCOPES } from '#services/accounts/api_tokens'

export default class AccountsController {
  async show({ view, auth }: HttpContext) {
    return view.render('pages/account/show', {
      creatorApproval: app.config.get('accounts.creatorApproval'),
      scopeLabels: API_SCOPES,
      apiTokens: await apiTokens.list(auth.getUserOrFail()),
    })
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

  /** POST /account/profile (multipart): display name, bio and avatar of the user's page `/@username`. */
  async updateProfile({ request, response, auth, session }: HttpContext) {
    const user = auth.getUserOrFail()
    const input = await request.validateUsing(profileValidator)
    await profiles.update(user, { displayName: input.displayName, bio: input.bio, avatarPath: input.avatar?.tmpPath, removeAvatar: input.removeAvatar })
    session.flash('success', 'Your profile was saved.')
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
