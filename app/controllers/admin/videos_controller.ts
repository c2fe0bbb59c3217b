import type { HttpContext } from '@adonisjs/core/http'
import { listReturnPath } from '#services/redirects'
import { VIDEO_STATUSES } from '#models/video'
import salesReports from '#services/sales_report_service'
import videos from '#services/video_service'
import storageCleanup from '#services/media/storage_cleanup'
import { takedownValidator } from '#validators/video'
import { videoFiltersValidator, watermarkDefaultValidator } from '#validators/admin'
import watermarkDefaultMode from '#services/watermark/default_mode'

export default class AdminVideosController {
  /** Every video with its state, owner and sales; searchable by title or owner. */
  async index({ view, request }: HttpContext) {
    const filters = await videoFiltersValidator.validate(request.qs())
    const list = await videos.adminList({ ...filters, page: filters.page ?? 1 })
    list.baseUrl('/admin/videos')
    list.queryString({ q: filters.q, status: filters.status })
    const [sales, pendingDeletions] = await Promise.all([salesReports.salesOf(list.all().map((video) => video.id)), storageCleanup.backlog()])
    const defaultMode = await watermarkDefaultMode.stored()
    return view.render('pages/admin/videos', { videos: list, filters, sales, statuses: VIDEO_STATUSES, pendingDeletions, defaultMode })
  }

  /** The watermark mode of videos whose creator chose none; new sessions and transcodes follow it. */
  async watermarkDefault({ request, response, session, auth }: HttpContext) {
    const { mode } = await request.validateUsing(watermarkDefaultValidator)
    await watermarkDefaultMode.set(auth.getUserOrFail(), mode === 'automatic' ? null : mode)
    session.flash('success', `Videos without a mode of their own are now protected: ${mode}.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/videos'))
  }

  /** Takes a video down (it stops playing at once) or restores it. */
  async takedown({ params, request, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const { reason } = await request.validateUsing(takedownValidator)
    await videos.takeDown(auth.getUserOrFail(), video, reason)
    session.flash('success', `"${video.title}" was taken down; its viewers were stopped.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/videos'))
  }

  async retry({ params, response, session, auth, request }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    if (await videos.retryTranscode(auth.getUserOrFail(), video)) {
      session.flash('success', `"${video.title}" is queued for transcoding again.`)
    } else {
      session.flash('error', `"${video.title}" has not failed: nothing to retry.`)
    }
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/videos'))
  }

  async restore({ params, response, session, auth, request }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    await videos.restore(auth.getUserOrFail(), video)
    session.flash('success', `"${video.title}" is back.`)
    return response.redirect().toPath(listReturnPath(request.header('referer'), '/admin/videos'))
  }
}
