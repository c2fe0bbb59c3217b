import type { HttpContext } from '@adonisjs/core/http'
import mediaConfig from '#config/media'
import LeakTrace from '#models/leak_trace'
import videos from '#services/video_service'
import leakTraces from '#services/watermark/leak_trace_service'
import { receiveStreamedFile } from '#services/media/streamed_upload'

/** Admin → Videos → Trace a leak: upload a clip, follow its trace, read the verdict. */
export default class AdminLeakTracesController {
  async create({ params, view, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    return view.render('pages/admin/trace_new', { video, limit: mediaConfig.forensic.traceClipLimit })
  }

  async store({ params, request, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const clip = await receiveStreamedFile(request, 'clip', mediaConfig.forensic.traceClipLimit)
    if ('error' in clip) {
      session.flash('error', clip.error || 'Choose the leaked clip to upload.')
      return response.redirect(`/admin/videos/${video.id}/trace`)
    }
    try {
      const trace = await leakTraces.request(auth.getUserOrFail(), video, clip.path)
      return response.redirect(`/admin/traces/${trace.id}`)
    } finally {
      await clip.cleanup()
    }
  }

  async show({ params, view, request, response }: HttpContext) {
    const trace = await LeakTrace.query().where('id', params.id).preload('video').first()
    if (!trace) return response.notFound('There is no such trace')
    if (request.accepts(['html', 'json']) === 'json') return { id: trace.id, status: trace.status }
    return view.render('pages/admin/trace', { trace })
  }
}
