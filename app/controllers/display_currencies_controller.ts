import type { HttpContext } from '@adonisjs/core/http'
import { DISPLAY_CURRENCY_COOKIE } from '#middleware/display_currency_middleware'
import currencies from '#services/currency_service'
import { safeReturnPath } from '#services/redirects'

export default class DisplayCurrenciesController {
  /** GET /currency?code=IDR: remember the viewer's display currency (empty clears it). */
  async update({ request, response }: HttpContext) {
    const code = String(request.input('code', '')).toUpperCase()
    if (currencies.isSupported(code)) {
      response.plainCookie(DISPLAY_CURRENCY_COOKIE, code, { maxAge: '1y', httpOnly: true, sameSite: 'lax' })
    } else {
      response.clearCookie(DISPLAY_CURRENCY_COOKIE)
    }
    // Back to the page the picker was on (a local path only).
    return response.redirect().toPath(safeReturnPath(request.input('return_to')))
  }
}
