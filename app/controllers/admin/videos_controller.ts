import type { HttpContext } from '@adonisjs/core/http'
import Video from '#models/video'
import videos from '#services/video_service'
import { takedownValidator } from '#validators/video'

export default class AdminVideosController {
  /** Every video with its state and last error (the full console comes later). */
  async index({ view, request }: HttpContext) {
    const page = Math.max(1, Number.parseInt(request.input('page', '1'), 10) || 1)
    const list = await Video.query().preload('owner').orderBy('createdAt', 'desc').paginate(page, 50)
    list.baseUrl('/admin/videos')
    return view.render('pages/admin/videos', { videos: list })
  }

  /** Takes a video down (it stops playing at once) or restores it. */
  async takedown({ params, request, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const { reason } = await request.validateUsing(takedownValidator)
    await videos.takeDown(video, reason)
    session.flash('success', `"${video.title}" was taken down; its viewers were stopped.`)
    return response.redirect('/admin/videos')
  }

  async retry({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    if (await videos.retryTranscode(auth.getUserOrFail(), video)) {
      session.flash('success', `"${video.title}" is queued for transcoding again.`)
    } else {
      session.flash('error', `"${video.title}" has not failed: nothing to retry.`)
    }
    return response.redirect('/admin/videos')
  }

  async restore({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    await videos.restore(video)
    session.flash('success', `"${video.title}" is back.`)
    return response.redirect('/admin/videos')
  }
}
