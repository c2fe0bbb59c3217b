import type { HttpContext } from '@adonisjs/core/http'
import health from '#services/health_service'

export default class HealthController {
  async show({ response }: HttpContext) {
    const report = await health.check()
    return response.status(report.ok ? 200 : 503).json(report)
  }
}
