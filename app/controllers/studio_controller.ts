import type { HttpContext } from '@adonisjs/core/http'

export default class StudioController {
  async index({ view }: HttpContext) {
    return view.render('pages/studio/index')
  }
}
