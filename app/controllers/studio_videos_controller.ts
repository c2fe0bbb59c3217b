import type { HttpContext } from '@adonisjs/core/http'
import videos, { type RemovalOutcome } from '#services/video_service'
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

  /** Deletes the video, or archives it when someone paid for it (the flash says which). */
  async destroy({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const outcome = await videos.destroy(video, auth.getUserOrFail())
    session.flash('success', removalMessage(video.title, outcome))
    return response.redirect('/studio/videos')
  }

  async unarchive({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    await videos.unarchive(auth.getUserOrFail(), video)
    session.flash('success', `"${video.title}" is back in the catalog and on sale.`)
    return response.redirect('/studio/videos')
  }

  async retry({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    if (await videos.retryTranscode(auth.getUserOrFail(), video)) session.flash('success', 'Transcoding starts again.')
    return response.redirect('/studio/videos')
  }
}

function removalMessage(title: string, outcome: RemovalOutcome) {
  if (outcome.kind === 'deleted') return `"${title}" was deleted with all its files.`
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const why = [
    outcome.holders ? `${plural(outcome.holders, 'buyer')} still own${outcome.holders === 1 ? 's' : ''} it and can watch it` : '',
    outcome.openCheckouts ? `${plural(outcome.openCheckouts, 'checkout')} may still be paid (delete it again once ${outcome.openCheckouts === 1 ? 'it has' : 'they have'} ended)` : '',
    !outcome.holders && !outcome.openCheckouts ? 'its sales stay on record' : '',
  ].filter(Boolean)
  const state = 'out of the catalog and no longer for sale; its files are kept'
  return outcome.wasArchived
    ? `"${title}" stays archived (${state}): ${why.join('; ')}.`
    : `"${title}" was archived instead of deleted (${state}): ${why.join('; ')}. "Put back on sale" undoes it.`
}
