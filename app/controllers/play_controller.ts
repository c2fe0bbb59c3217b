import type { HttpContext } from '@adonisjs/core/http'
import playback from '#services/playback_service'
import { sendStoredObject } from '#services/media/stored_object'

/**
 * GET /play/:session/<path>?exp&sig — playlists and segments of a playback
 * session. The playback service checks everything and decides what to send
 * before a byte of media is read; this only writes its answer. Nothing here
 * may be cached by anyone but the viewer.
 */
export default class PlayController {
  async show({ params, request, response, auth }: HttpContext) {
    // The raw path, as sent: no decoding or normalising may turn it into another one.
    const rawPath = (request.request.url ?? '').split('?')[0]
    const prefix = `/play/${params.session}/`
    const path = rawPath.startsWith(prefix) ? rawPath.slice(prefix.length) : ''
    const { exp, sig } = request.qs()
    const reply = await playback.serve({ sessionId: params.session, path, exp, sig, user: auth.user, range: request.header('range') })

    response.header('Cache-Control', 'private, no-store')
    if (reply.kind === 'playlist') {
      response.header('Content-Type', 'application/vnd.apple.mpegurl')
      return reply.text
    }
    return sendStoredObject(response, reply, { offload: true })
  }
}
