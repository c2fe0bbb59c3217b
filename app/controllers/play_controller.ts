import type { HttpContext } from '@adonisjs/core/http'
import playback from '#services/playback_service'
import watermarks from '#services/watermark_service'
import { sendStoredObject } from '#services/http_range'

/**
 * GET /play/:session/<path>?exp&sig — playlists and segments of a playback
 * session. Everything is checked by the playback service before a byte of
 * media is read; nothing here may be cached by anyone but the viewer.
 */
export default class PlayController {
  async show({ params, request, response, auth }: HttpContext) {
    // The raw path, as sent: no decoding or normalising may turn it into another one.
    const rawPath = (request.request.url ?? '').split('?')[0]
    const prefix = `/play/${params.session}/`
    const path = rawPath.startsWith(prefix) ? rawPath.slice(prefix.length) : ''
    const { exp, sig } = request.qs()
    const { session, video, target } = await playback.resolve({ sessionId: params.session, path, exp, sig, user: auth.user })

    response.header('Cache-Control', 'private, no-store')
    if (target.kind === 'master' || target.kind === 'variant') {
      const text =
        target.kind === 'master'
          ? await playback.masterPlaylist(session, video)
          : await playback.variantPlaylist(session, video, target.rendition)
      response.header('Content-Type', 'application/vnd.apple.mpegurl')
      return text
    }
    if (target.kind === 'watermarked') {
      await watermarks.ensure(session, video, target.rendition, target.index)
      return sendStoredObject(response, watermarks.renderKey(session.id, target.rendition, target.index), request.header('range'))
    }
    return sendStoredObject(response, playback.storedMediaKey(session, video, target), request.header('range'))
  }
}
