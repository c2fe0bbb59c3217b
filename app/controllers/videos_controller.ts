import type { HttpContext } from '@adonisjs/core/http'
import videos from '#services/video_service'
import storage from '#services/storage_service'
import entitlements from '#services/entitlement_service'

export default class VideosController {
  /** The catalog: published, ready videos, searchable and paginated. */
  async index({ request, view }: HttpContext) {
    const search = String(request.input('q', '')).slice(0, 100)
    const page = Math.max(1, Math.min(10_000, Number.parseInt(request.input('page', '1'), 10) || 1))
    const results = await videos.catalog({ search, page })
    results.baseUrl('/')
    results.queryString(search ? { q: search } : {})
    return view.render('pages/home', { videos: results, search })
  }

  async show({ params, view, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user)
    await video.load('owner')
    // The page shows the player, or why there is none (log in, buy, processing).
    const access = await entitlements.decide(auth.user, video)
    return view.render('pages/videos/show', { video, access, canManage: videos.canManage(auth.user, video) })
  }

  /** Posters are streamed by the app: storage is never public. */
  async poster({ params, response, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user)
    if (!video.posterKey) return response.notFound('No poster yet')
    const object = await storage.get(video.posterKey)
    response.header('Content-Type', object.contentType ?? 'image/jpeg')
    response.header('Content-Length', String(object.size))
    response.header('Cache-Control', video.isPublic ? 'public, max-age=300' : 'private, no-store')
    return response.stream(object.body)
  }
}
