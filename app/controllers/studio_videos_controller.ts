import type { HttpContext } from '@adonisjs/core/http'
import videos, { type RemovalOutcome } from '#services/video_service'
import mediaConfig from '#config/media'
import { minorToInput } from '#services/money'
import currencies from '#services/currency_service'
import { posterValidator, videoDetailsValidator } from '#validators/video'
import viewingReports from '#services/viewing_report_service'
import { isUuid } from '#services/ids'
import offerEditor from '#services/commerce/offer_editor'

export default class StudioVideosController {
  /** My videos: thumbnails, transcode progress, and how each is watched (views, viewers, watch time), with views per day. */
  async index({ view, auth }: HttpContext) {
    const creator = auth.getUserOrFail()
    const list = await videos.ownedBy(creator)
    const [viewing, viewsByDay, rentals] = await Promise.all([
      viewingReports.perVideo(list.map((video) => video.id)),
      viewingReports.viewsByDay(creator.id),
      offerEditor.rentalsOf(creator),
    ])
    return view.render('pages/studio/videos', { videos: list, viewing, viewsByDay, rentals })
  }

  /** GET /studio/videos/progress?ids=a,b: what studio_progress.js polls (the creator's own videos only). */
  async progress({ request, auth }: HttpContext) {
    const ids = String(request.input('ids', '')).split(',').filter(isUuid).slice(0, 100)
    const rows = await videos.progressOf(auth.getUserOrFail(), ids)
    return { videos: rows }
  }

  async create({ view }: HttpContext) {
    return view.render('pages/studio/upload', {
      currencies: currencies.supported(),
      maxUploadBytes: mediaConfig.maxUploadBytes,
      extensions: mediaConfig.allowedExtensions,
    })
  }

  /**
   * POST /studio/videos/check (JSON): the upload form's details checked
   * before the file is sent, so each problem shows next to its field
   * (the upload itself checks them again).
   */
  async checkDetails({ request, response }: HttpContext) {
    const [error] = await videoDetailsValidator.tryValidate(request.only(['title', 'description', 'currency', 'price', 'visibility', 'watermark']))
    if (!error) return { ok: true }
    const errors: Record<string, string[]> = {}
    for (const message of (error as { messages: Array<{ field: string; message: string }> }).messages) {
      ;(errors[message.field] ??= []).push(message.message)
    }
    return response.status(422).json({ ok: false, errors })
  }

  async edit({ params, view, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const rental = await offerEditor.rentalOf(video)
    return view.render('pages/studio/edit', {
      video,
      currencies: currencies.supported(),
      price: minorToInput(video.priceMinor, video.currency),
      rental,
      rentalPrice: rental ? minorToInput(rental.priceMinor, rental.currency) : '',
    })
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
