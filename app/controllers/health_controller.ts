import type { HttpContext } from '@adonisjs/core/http'
import health from '#services/health_service'

/**
 * GET /health: 200 `{ status: 'up' }` or 503 `{ status: 'down' }` for
 * anyone (load balancers, uptime checks); admins also get what is down and
 * why, and the workers' heartbeats, which would tell an outsider how the
 * instance is built and when it is weak.
 */
export default class HealthController {
  async show({ response, auth }: HttpContext) {
    return answerHealth(response, auth.user?.isAdmin ?? false)
  }
}

export async function answerHealth(response: HttpContext['response'], withDetails: boolean) {
  const report = await health.check()
  const status = report.ok ? 'up' : 'down'
  response.status(report.ok ? 200 : 503)
  response.header('cache-control', 'no-store')
  return response.json(withDetails ? { status, ...report } : { status })
}
