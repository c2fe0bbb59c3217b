import app from '@adonisjs/core/services/app'
import { type HttpContext, ExceptionHandler } from '@adonisjs/core/http'
import { errors as limiterErrors } from '@adonisjs/limiter'
import type { StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'

export default class HttpExceptionHandler extends ExceptionHandler {
  /** Full stack traces only while developing. */
  protected debug = !app.inProduction

  /** Friendly error pages for browsers; JSON clients still get JSON. */
  protected renderStatusPages = app.inProduction || app.inTest

  protected statusPages: Record<StatusPageRange, StatusPageRenderer> = {
    '403': (error, { view }) => view.render('pages/errors/forbidden', { error }),
    '404': (error, { view }) => view.render('pages/errors/not_found', { error }),
    '500..599': (error, { view }) => view.render('pages/errors/server_error', { error }),
  }

  async handle(error: unknown, ctx: HttpContext) {
    // Browsers get a page (not a bare sentence) when rate limited; the status
    // and Retry-After header stay as the limiter set them.
    if (error instanceof limiterErrors.E_TOO_MANY_REQUESTS && ctx.request.accepts(['html', 'json']) === 'html') {
      const headers = error.getDefaultHeaders()
      Object.entries(headers).forEach(([name, value]) => ctx.response.header(name, value))
      ctx.response.status(429)
      return ctx.response.send(
        await ctx.view.render('pages/errors/too_many_requests', { retryAfter: headers['Retry-After'] })
      )
    }
    return super.handle(error, ctx)
  }

  async report(error: unknown, ctx: HttpContext) {
    return super.report(error, ctx)
  }
}
