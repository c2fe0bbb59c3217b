import type { HttpContext } from '@adonisjs/core/http'
import videos from '#services/video_service'
import mediaConfig from '#config/media'
import { minorToInput } from '#services/money'
import currencies from '#services/currency_service'
import { posterValidator, videoDetailsValidator } from '#validators/video'

export default class StudioVideosController {
  async index({ view, auth }: HttpContext) {
    const list = await videos.ownedBy(auth.getUserOrFail())
    return view.render('pages/studio/videos', { videos: list })
  }

  async create({ view }: HttpContext) {
    return view.render('pages/studio/upload', {
      currencies: currencies.supported(),
      maxUploadBytes: mediaConfig.maxUploadBytes,
      extensions: mediaConfig.allowedExtensions,
    })
  }

  async edit({ params, view, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    return view.render('pages/studio/edit', { video, currencies: currencies.supported(), price: minorToInput(video.priceMinor, video.currency) })
  }

  async update({ params, request, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const details = await request.validateUsing(videoDetailsValidator)
    const { poster } = await request.validateUsing(posterValidator)
    await videos.update(video, details)
    if (poster?.tmpPath) await videos.replacePoster(video, { path: poster.tmpPath, extname: poster.extname ?? 'jpg' })
    session.flash('success', 'Saved.')
    return response.redirect(`/studio/videos/${video.id}/edit`)
  }

  async destroy({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    await videos.destroy(video)
    session.flash('success', `"${video.title}" was deleted with all its files.`)
    return response.redirect('/studio/videos')
  }

  async retry({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    if (await videos.retryTranscode(auth.getUserOrFail(), video)) session.flash('success', 'Transcoding starts again.')
    return response.redirect('/studio/videos')
  }
}
