import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { SESSION_COOKIE_NAME } from '#config/session'
import { answerHealth } from '#controllers/health_controller'

/**
 * GET /health without a session cookie (a load balancer, an uptime check) is
 * answered here, before the session and auth middleware: those read the
 * session from Redis, so during a Redis outage the probe would fail with
 * them instead of saying `503 { status: 'down' }`. A browser with a session
 * may be an admin's: it goes on to the route, which shows admins the details.
 */
export default class PublicHealthMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    if (ctx.request.method() !== 'GET' || ctx.request.url() !== '/health') return next()
    const cookies = ctx.request.header('cookie') ?? ''
    if (cookies.split(';').some((pair) => pair.trim().startsWith(`${SESSION_COOKIE_NAME}=`))) return next()
    await answerHealth(ctx.response, false)
  }
}
