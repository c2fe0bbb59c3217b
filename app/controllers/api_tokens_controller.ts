import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import apiTokens, { API_SCOPES, ApiTokenError } from '#services/accounts/api_tokens'
import { createApiTokenValidator } from '#validators/api_token'

/** Account → API tokens: create (the secret is shown once) and revoke personal API tokens. */
export default class ApiTokensController {
  /**
   * POST /account/tokens: the account page comes back with the new secret
   * in it, rendered once from this response (never stored in the session or
   * anywhere else: only its hash is kept).
   */
  async store({ request, response, auth, session, view }: HttpContext) {
    const user = auth.getUserOrFail()
    const input = await request.validateUsing(createApiTokenValidator)
    try {
      const created = await apiTokens.create(user, { name: input.name, scopes: input.scopes, expiresInDays: input.expiresInDays })
      response.header('Cache-Control', 'no-store')
      return view.render('pages/account/show', {
        creatorApproval: app.config.get('accounts.creatorApproval'),
        scopeLabels: API_SCOPES,
      apiTokens: await apiTokens.list(user),
        newToken: { ...created, name: input.name },
      })
    } catch (error) {
      if (!(error instanceof ApiTokenError)) throw error
      session.flash('error', error.message)
      return response.redirect('/account#api-tokens')
    }
  }

  /** POST /account/tokens/:id/revoke: the token stops working at once. */
  async destroy({ params, response, auth, session }: HttpContext) {
    const id = Number(params.id)
    const revoked = Number.isSafeInteger(id) && id > 0 && (await apiTokens.revoke(auth.getUserOrFail(), id))
    if (!revoked) {
      session.flash('error', 'There is no such token')
      return response.redirect('/account#api-tokens')
    }
    session.flash('success', 'The token was revoked: scripts using it are refused from now on.')
    return response.redirect('/account#api-tokens')
  }
}
