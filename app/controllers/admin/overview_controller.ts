import type { HttpContext } from '@adonisjs/core/http'
import overview from '#services/instance_overview_service'

/** Admin → Overview: the instance at a glance. */
export default class AdminOverviewController {
  async index({ view }: HttpContext) {
    return view.render('pages/admin/overview', { overview: await overview.overview() })
  }
}
