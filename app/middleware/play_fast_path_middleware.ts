import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import playbackFastPath, { VIEWER_COOKIE } from '#services/playback/fast_path'
import { writePlaybackReply } from '#services/playback/http_reply'

const PLAY_PATH = /^\/play\/([^/?]+)\/([^?]*)/

/**
 * GET /play/... of a session this web node holds, answered before the router
 * middleware: those read the web session from Redis and the user from
 * PostgreSQL on every request, which a player asks for every few seconds. A
 * request the fast path does not answer goes on to PlayController, which
 * checks everything (see PlaybackFastPath for why this is safe).
 */
export default class PlayFastPathMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    const { request, response } = ctx
    const match = request.method() === 'GET' ? PLAY_PATH.exec(request.request.url ?? '') : null
    if (!match) return next()
    const { exp, sig } = request.qs()
    const reply = await playbackFastPath.reply({
      sessionId: match[1],
      path: match[2],
      exp,
      sig,
      viewer: playbackFastPath.viewer(request.header('cookie'), () => request.cookie(VIEWER_COOKIE)),
      range: request.header('range'),
    })
    if (!reply) return next()
    // What the route's own middleware would have set.
    response.header('Referrer-Policy', 'no-referrer')
    response.header('X-Content-Type-Options', 'nosniff')
    return writePlaybackReply(response, reply)
  }
}
