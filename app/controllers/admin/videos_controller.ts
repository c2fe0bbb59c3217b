import type { HttpContext } from '@adonisjs/core/http'
import Video from '#models/video'

export default class AdminVideosController {
  /** Every video with its state and last error (the full console comes later). */
  async index({ view, request }: HttpContext) {
    const page = Math.max(1, Number.parseInt(request.input('page', '1'), 10) || 1)
    const list = await Video.query().preload('owner').orderBy('createdAt', 'desc').paginate(page, 50)
    list.baseUrl('/admin/videos')
    return view.render('pages/admin/videos', { videos: list })
  }
}
