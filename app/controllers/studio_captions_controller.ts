import type { HttpContext } from '@adonisjs/core/http'
import videos from '#services/video_service'
import captions from '#services/captions/caption_service'
import { SubtitleError } from '#services/captions/subtitles'
import captionsConfig from '#config/captions'
import { captionUploadValidator } from '#validators/caption'

/** Studio → a video → Captions: subtitle files per language, added, replaced and deleted by the creator. */
export default class StudioCaptionsController {
  async index({ params, view, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    return view.render('pages/studio/captions', { video, captions: await captions.list(video), maxBytes: captionsConfig.maxBytes })
  }

  async store({ params, request, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const { language, file } = await request.validateUsing(captionUploadValidator)
    const back = `/studio/videos/${video.id}/captions`
    try {
      const saved = await captions.save(video, { language, path: file.tmpPath!, fileName: file.clientName })
      const verb = saved.replaced ? 'replaced' : 'added'
      session.flash('success', `${saved.caption.label} captions ${verb}${saved.format === 'srt' ? ' (converted from SRT to WebVTT)' : ''}.`)
    } catch (error) {
      if (!(error instanceof SubtitleError)) throw error
      // Next to the field that caused it, like a validation error.
      session.flashAll()
      session.flash('inputErrorsBag', { [error.field]: [error.message] })
    }
    return response.redirect().toPath(back)
  }

  async destroy({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const removed = await captions.remove(video, String(params.language))
    session.flash(removed ? 'success' : 'error', removed ? `${removed.label} captions deleted.` : 'This video has no captions in that language.')
    return response.redirect().toPath(`/studio/videos/${video.id}/captions`)
  }
}
