import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import currencies from '#services/currency_service'

export const DISPLAY_CURRENCY_COOKIE = 'display_currency'

/**
 * The currency a viewer reads prices in: their choice (a cookie set from the
 * footer picker), else what their browser's language suggests. Views get
 * `approxPrice(minor, currency)`: "≈ Rp 84,830", or null when not needed.
 */
export default class DisplayCurrencyMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const chosen = String(ctx.request.plainCookie(DISPLAY_CURRENCY_COOKIE) ?? '').toUpperCase()
    const displayCurrency = currencies.isSupported(chosen)
      ? chosen
      : currencies.fromAcceptLanguage(ctx.request.header('accept-language'))
    ctx.view?.share({
      displayCurrency,
      displayCurrencies: currencies.supported(),
      approxPrice: (minor: number, currency: string) => currencies.approximate(minor, currency, displayCurrency),
      rateNote: (currency: string) => (displayCurrency ? currencies.describeRate(currency, displayCurrency) : null),
    })
    return next()
  }
}
