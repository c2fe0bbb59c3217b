import type { HttpContext } from '@adonisjs/core/http'
import Video from '#models/video'
import apiTokens from '#services/accounts/api_tokens'
import apiSessions from '#services/playback/api_sessions'
import { isUuid } from '#services/ids'
import paywalls from '#services/commerce/paywalls'
import signInWithX, { SIGN_IN_WITH_X, SIGN_IN_WITH_X_HEADER } from '#services/wallets/sign_in_with_x'
import { PlaybackError } from '#exceptions/playback_error'

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
    const video = isUuid(params.id) ? await Video.find(params.id) : null
    response.header('Cache-Control', 'no-store')
    // A returning wallet proves itself with a signed challenge (x402 sign-in-with-x).
    const proof = request.header(SIGN_IN_WITH_X_HEADER)
    if (proof && !request.header('authorization')) {
      return apiSessions.openForWallet({ header: proof, video, userAgent: request.header('user-agent') ?? '', origin: apiSessions.originOf(request) })
    }
    // Pay per request (x402, a plugin's paywall): a client without a token,
    // or whose user may not watch yet, is told what to pay, or pays now.
    const paywall = paywalls.for(request.headers() as Record<string, string | undefined>)
    const authed = request.header('authorization') || !paywall ? await apiTokens.authenticate(ctx, 'sessions:open') : null
    if (paywall && (!authed || !(await paywalls.mayWatch(authed.user, video)))) {
      return paywalls.answer(ctx, { paywall, user: authed?.user ?? null, token: authed?.token ?? null, video })
    }
    const { user, token } = authed!
    const opened = await apiSessions.open({
      user,
      video,
      deviceId: apiTokens.deviceOf(token),
      userAgent: request.header('user-agent') ?? '',
      origin: apiSessions.originOf(request),
    })
    return opened
  }

  /**
   * GET /api/v1/videos/:id/sign-in: a Sign-In With Ethereum challenge for a
   * wallet that bought the video (the x402 `sign-in-with-x` extension's
   * object; its nonce is single use and expires). The wallet signs the
   * EIP-4361 message and sends it back in the SIGN-IN-WITH-X header of
   * GET /api/v1/videos/:id/session.
   */
  async challenge({ params, response }: HttpContext) {
    const video = isUuid(params.id) ? await Video.find(params.id) : null
    if (!video || video.visibility !== 'published' || video.status !== 'ready' || video.isTakenDown) {
      throw new PlaybackError('not_found', 404, 'There is no such video')
    }
    response.header('Cache-Control', 'no-store')
    return { [SIGN_IN_WITH_X]: await signInWithX.challenge(video.id) }
  }

  /** GET /api/v1/videos/:id: what a script may know of a video, and whether the token's user may watch it. */
  async video(ctx: HttpContext) {
    const { user } = await apiTokens.authenticate(ctx, 'videos:read')
    const video = isUuid(ctx.params.id) ? await Video.find(ctx.params.id) : null
    ctx.response.header('Cache-Control', 'no-store')
    return apiSessions.describe(user, video)
  }
}
