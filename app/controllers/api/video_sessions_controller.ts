import type { HttpContext } from '@adonisjs/core/http'
import Video from '#models/video'
import apiTokens from '#services/accounts/api_tokens'
import apiSessions from '#services/playback/api_sessions'
import { isUuid } from '#services/ids'

/**
 * The JSON API for scripts (/api/v1). A personal API token
 * (`Authorization: Bearer mat_...`, Account → API tokens) opens sessions for
 * what its user owns or bought. Refusals are `{ error, message }`.
 */
export default class VideoSessionsController {
  /**
   * GET /api/v1/videos/:id/session: a playback session (signed master
   * playlist URL, expiry) for the token's user.
   */
  async show(ctx: HttpContext) {
    const { params, request, response } = ctx
    const { user, token } = await apiTokens.authenticate(ctx, 'sessions:open')
    const video = isUuid(params.id) ? await Video.find(params.id) : null
    const opened = await apiSessions.open({
      user,
      video,
      deviceId: apiTokens.deviceOf(token),
      userAgent: request.header('user-agent') ?? '',
      origin: apiSessions.originOf(request),
    })
    response.header('Cache-Control', 'no-store')
    return opened
  }

  /** GET /api/v1/videos/:id: what a script may know of a video, and whether the token's user may watch it. */
  async video(ctx: HttpContext) {
    const { user } = await apiTokens.authenticate(ctx, 'videos:read')
    const video = isUuid(ctx.params.id) ? await Video.find(ctx.params.id) : null
    ctx.response.header('Cache-Control', 'no-store')
    return apiSessions.describe(user, video)
  }
}
