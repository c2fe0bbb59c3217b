import type { HttpContext } from '@adonisjs/core/http'
import videos from '#services/video_service'
import allowlists from '#services/allowlist_service'
import { allowlistGrantValidator } from '#validators/commerce'

/** A video's allowlist, managed by its creator or an admin. */
export default class AllowlistsController {
  async show({ params, view, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const entries = await allowlists.entriesOf(video)
    return view.render('pages/studio/access', { video, entries })
  }

  async store({ params, request, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const { user: identifier } = await request.validateUsing(allowlistGrantValidator)
    const user = await allowlists.grant(auth.getUserOrFail(), video, identifier)
    session.flash('success', `${user.username} can now watch "${video.title}" free.`)
    return response.redirect().toPath(`/studio/videos/${video.id}/access`)
  }

  async destroy({ params, response, session, auth }: HttpContext) {
    const video = await videos.findOrFail(params.id, auth.user, { manage: true })
    const userId = Number(params.userId)
    const user = await allowlists.revoke(auth.getUserOrFail(), video, userId)
    session.flash('success', `${user.username} no longer has free access to "${video.title}".`)
    return response.redirect().toPath(`/studio/videos/${video.id}/access`)
  }
}
