import app from '@adonisjs/core/services/app'
import { type HttpContext, ExceptionHandler } from '@adonisjs/core/http'
import { errors as limiterErrors } from '@adonisjs/limiter'
import type { StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'
import { RateLimitExceeded, describeWaitForPeople } from '#exceptions/rate_limit_exceeded'
import { RETRY_AFTER_SECONDS, SERVICE_UNAVAILABLE_MESSAGE, isServiceOutage } from '#exceptions/service_unavailable'

/** Routes that players, providers and scripts call: their errors are JSON whatever they accept. */
const MACHINE_ROUTES = /^\/(play|playback|webhooks|health)(\/|$)|^\/videos\/[^/]+\/playback$|^\/orders\/[^/]+\/status$/

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
    if (isServiceOutage(error)) return this.#serviceUnavailable(ctx)
    // Browsers get a page (not a bare sentence) when rate limited; the status
    // and Retry-After header stay as the limiter set them. Only requests that
    // ask for HTML (pages, forms): scripts such as the tus uploader show the
    // limit's own sentence.
    if (error instanceof limiterErrors.E_TOO_MANY_REQUESTS && (ctx.request.header('accept') ?? '').includes('text/html')) {
      const headers = error.getDefaultHeaders()
      Object.entries(headers).forEach(([name, value]) => ctx.response.header(name, value))
      ctx.response.status(429)
      const seconds = Number(headers['Retry-After'] ?? error.response.availableIn)
      return ctx.response.send(
        await ctx.view.render('pages/errors/too_many_requests', {
          what: error instanceof RateLimitExceeded ? error.what : null,
          retryAfter: seconds,
          ...describeWaitForPeople(seconds),
        })
      )
    }
    return super.handle(error, ctx)
  }

  async report(error: unknown, ctx: HttpContext) {
    // An outage is one line per request, not a stack trace each.
    if (isServiceOutage(error)) {
      ctx.logger.warn(`service unavailable: ${(error as Error).message}`)
      return
    }
    return super.report(error, ctx)
  }

  /**
   * PostgreSQL or Redis is unreachable: a 503 with a sentence (a page for a
   * browser, JSON for players, providers and scripts) and Retry-After.
   * Payment providers send a webhook answered so again later.
   */
  async #serviceUnavailable(ctx: HttpContext) {
    ctx.response.status(503)
    ctx.response.header('Retry-After', String(RETRY_AFTER_SECONDS))
    ctx.response.header('Cache-Control', 'no-store')
    const wantsPage =
      (ctx.request.header('accept') ?? '').includes('text/html') && !MACHINE_ROUTES.test(ctx.request.url())
    if (!wantsPage) return ctx.response.json({ error: 'service_unavailable', message: SERVICE_UNAVAILABLE_MESSAGE })
    try {
      return ctx.response.send(await ctx.view.render('pages/errors/unavailable', { message: SERVICE_UNAVAILABLE_MESSAGE }))
    } catch {
      // The layout needs what is down (the session in Redis, say): the bare sentence.
      ctx.response.header('Content-Type', 'text/html; charset=utf-8')
      return ctx.response.send(`<!doctype html><title>Briefly unavailable</title><p>${SERVICE_UNAVAILABLE_MESSAGE}</p>`)
    }
  }
}
