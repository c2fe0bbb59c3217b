import type { HttpContext } from '@adonisjs/core/http'

export default class HomeController {
  /** The catalog; videos arrive with the media pipeline. */
  async index({ view }: HttpContext) {
    return view.render('pages/home', { videos: [] })
  }
}
