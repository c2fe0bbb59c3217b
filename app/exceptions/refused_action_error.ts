import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'

/**
 * A refused action (a checkout, a refund, an admin's ban...) with a message
 * meant for the person who tried it. Forms get it as a flash message on the
 * page they came from; JSON clients as `{error, message}`. Nothing was
 * changed when it is thrown.
 */
export class RefusedActionError extends Exception {
  declare code: string

  constructor(code: string, status: number, message: string) {
    super(message, { code, status })
  }

  async handle(error: this, { request, response, session }: HttpContext) {
    if (request.accepts(['html', 'json']) === 'json' || request.ajax()) {
      return response.status(error.status).json({ error: error.code, message: error.message })
    }
    session.flash('error', error.message)
    session.flash('errorCode', error.code)
    return response.redirect().back()
  }
}
