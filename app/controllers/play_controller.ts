import type { HttpContext } from '@adonisjs/core/http'
import playback from '#services/playback_service'
import { writePlaybackReply } from '#services/playback/http_reply'
import apiTokens from '#services/accounts/api_tokens'

/**
 * GET /play/:session/<path>?exp&sig — playlists and segments of a playback
 * session, checked in full (web session, PostgreSQL). Most requests never get
 * here: the fast path (PlayFastPathMiddleware) answers those of a session
 * this web node holds in memory. The playback service checks everything and
 * decides what to send before a byte of media is read; this only writes it.
 */
export default class PlayController {
  async show({ params, request, response, auth }: HttpContext) {
    // The raw path, as sent: no decoding or normalising may turn it into another one.
    const rawPath = (request.request.url ?? '').split('?')[0]
    const prefix = `/play/${params.session}/`
    const path = rawPath.startsWith(prefix) ? rawPath.slice(prefix.length) : ''
    const { exp, sig } = request.qs()
    // A script holds no login cookie: its personal API token (sessions:open) stands for it.
    const user = auth.user ?? (request.header('authorization') ? (await apiTokens.authenticate({ auth }, 'sessions:open')).user : undefined)
    const reply = await playback.serve({ sessionId: params.session, path, exp, sig, user, range: request.header('range') })
    return writePlaybackReply(response, reply)
  }
}
