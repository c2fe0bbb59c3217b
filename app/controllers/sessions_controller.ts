import type { HttpContext } from '@adonisjs/core/http'
import { errors as authErrors } from '@adonisjs/auth'
import User from '#models/user'
import { loginValidator } from '#validators/account'
import loginThrottle from '#services/accounts/login_throttle'
import webSessions from '#services/accounts/web_sessions'
import plugins from '#services/plugins'
import playback from '#services/playback_service'
import { VIEWER_COOKIE } from '#services/playback/fast_path'
import { safeReturnPath } from '#services/redirects'

/** The same for a wrong password and an unknown account. */
const WRONG_CREDENTIALS = 'Wrong email, username or password.'

export default class SessionsController {
  async create({ view }: HttpContext) {
    return view.render('pages/auth/login')
  }

  /**
   * Wrong password and unknown account give the same error after the same
   * amount of hashing work. Failures are limited per account and per client
   * address (see LoginThrottle).
   */
  async store({ request, response, auth, session }: HttpContext) {
    const { login, password } = await request.validateUsing(loginValidator)
    const returnTo = String(request.input('return_to', '') ?? '')
    let user: User
    try {
      user = await loginThrottle.attempt({ login, address: request.ip() }, () => User.verifyCredentials(login, password))
    } catch (error) {
      if (!(error instanceof authErrors.E_INVALID_CREDENTIALS)) throw error
      // One message, flashed here: the auth error's own handler would also
      // flash its English message to the errors bag and the error flash.
      session.flashExcept(['password', '_csrf'])
      session.flash('error', WRONG_CREDENTIALS)
      return response.redirect().toPath(returnTo ? `/login?return_to=${encodeURIComponent(returnTo)}` : '/login')
    }
    if (user.bannedAt) {
      session.flash('error', 'This account is banned.')
      return response.redirect().toPath('/login')
    }
    await auth.use('web').login(user)
    webSessions.remember(session, user)
    await plugins.hooks.doAction('user:logged_in', { user: user.toHookUser() })
    session.flash('success', `Welcome back, ${user.username}.`)
    return response.redirect().toPath(safeReturnPath(request.input('return_to')))
  }

  async destroy({ response, auth, session }: HttpContext) {
    // This browser's playback sessions end with the login (other devices keep theirs).
    const deviceId = session.get('playbackDevice')
    if (auth.user && deviceId) await playback.revoke({ userId: auth.user.id, deviceId }, 'logout')
    await auth.use('web').logout()
    response.clearCookie(VIEWER_COOKIE, { path: '/play/' })
    session.flash('success', 'You are logged out.')
    return response.redirect('/')
  }
}
