import { randomUUID } from 'node:crypto'
import type { HttpContext } from '@adonisjs/core/http'
import Video from '#models/video'
import playback from '#services/playback_service'
import { PlaybackError } from '#exceptions/playback_error'
import { isUuid } from '#services/ids'
import { closeValidator, positionValidator, renewValidator } from '#validators/playback'
import playbackConfig from '#config/playback'
import { VIEWER_COOKIE, viewerCookieValue } from '#services/playback/fast_path'


/** The logged-in viewer; the player gets a JSON 401 rather than a redirect to the login page. */
function viewerOf(auth: HttpContext['auth']) {
  if (!auth.user) throw new PlaybackError('login_required', 401, 'Log in to watch this video')
  return auth.user
}

/**
 * The signed viewer cookie the fast segment path trusts: this browser, logged
 * in as this user, with this playback device. Refreshed at every open and
 * renewal, so it lives as long as a session does.
 */
function giveViewerCookie(response: HttpContext['response'], userId: number, deviceId: string) {
  response.cookie(VIEWER_COOKIE, viewerCookieValue({ userId, deviceId }), {
    httpOnly: true,
    sameSite: 'lax',
    path: '/play/',
    maxAge: playbackConfig.sessionTtlMinutes * 60,
  })
}

/**
 * Opening, renewing and closing playback sessions (JSON, for the player).
 * Errors are `{ error, message }` with the status of the refusal.
 */
export default class PlaybackController {
  /** POST /videos/:id/playback: a new session and its signed master playlist. */
  async store({ params, auth, session, request, response }: HttpContext) {
    const user = viewerOf(auth)
    let deviceId = session.get('playbackDevice') as string | undefined
    if (!deviceId) {
      deviceId = randomUUID()
      session.put('playbackDevice', deviceId)
    }
    const video = isUuid(params.id) ? await Video.find(params.id) : null
    const opened = await playback.open({ user, video, deviceId, userAgent: request.header('user-agent') ?? '' })
    giveViewerCookie(response, user.id, deviceId)
    return response.created({
      sessionId: opened.session.id,
      masterUrl: opened.masterUrl,
      watermarked: opened.session.watermarked,
      forensic: opened.session.forensic,
      overlay: opened.overlay,
      resumeAt: opened.resumeAt,
      thumbnailsUrl: opened.thumbnailsUrl,
      captions: opened.captions,
      expiresAt: opened.session.expiresAt.toISO(),
      // Lets the player judge URL expiry with the server's clock.
      serverTime: Date.now(),
    })
  }

  /** POST /playback/:session/renew { path }: a fresh signed URL for a path of a live session. */
  async renew({ params, auth, request, response, session }: HttpContext) {
    const user = viewerOf(auth)
    const { path } = await request.validateUsing(renewValidator)
    const renewed = await playback.renew({ sessionId: params.session, path, user })
    const deviceId = session.get('playbackDevice') as string | undefined
    if (deviceId) giveViewerCookie(response, user.id, deviceId)
    return renewed
  }

  /** POST /playback/:session/position { seconds }: where to resume next time. */
  async position({ params, auth, request, response }: HttpContext) {
    const user = viewerOf(auth)
    const { seconds } = await request.validateUsing(positionValidator)
    await playback.savePosition({ sessionId: params.session, user, seconds })
    return response.noContent()
  }

  /**
   * DELETE /playback/:session { seconds? }: the player closed (the viewer
   * left the page), which frees one of their screens at once; the position
   * comes with it, saved first (one request: a separate save racing the
   * close would find the session gone).
   */
  async destroy({ params, auth, request, response }: HttpContext) {
    const user = viewerOf(auth)
    if (!isUuid(params.session)) throw new PlaybackError('not_found', 404, 'No such playback session')
    const { seconds } = await request.validateUsing(closeValidator)
    if (seconds !== undefined) {
      await playback.savePosition({ sessionId: params.session, user, seconds }).catch((error) => {
        // Already ended (revoked, expired): nothing to save, still closed.
        if (!(error instanceof PlaybackError)) throw error
      })
    }
    await playback.revoke({ sessionId: params.session, userId: user.id }, 'ended')
    return response.noContent()
  }
}
