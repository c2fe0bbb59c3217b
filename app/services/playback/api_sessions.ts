import type { HttpContext } from '@adonisjs/core/http'
import type User from '#models/user'
import type Video from '#models/video'
import entitlements from '#services/entitlement_service'
import playback from '#services/playback_service'
import playbackConfig from '#config/playback'
import { PlaybackError } from '#exceptions/playback_error'
import signInWithX from '#services/wallets/sign_in_with_x'
import walletPayments from '#services/commerce/wallet_payments'
import apiTokens from '#services/accounts/api_tokens'
import { isWalletAccount } from '#services/commerce/paywalls'

/** What /api/v1 answers for an opened session. */
export interface ApiSession {
  sessionId: string
  videoId: string
  /** Absolute, signed; valid until `urlExpiresAt`, and for this session's user only. */
  masterUrl: string
  urlExpiresAt: string
  /** The session itself (renewed by playing); past it, open a new one. */
  expiresAt: string
  watermarked: boolean
  forensic: boolean
}

/**
 * Playback sessions opened from the JSON API (a personal token, a returning
 * wallet's signature, an x402 payment): the same sessions, entitlement chain
 * and signed URLs as the player's, answered as JSON with absolute URLs.
 */
export class ApiSessionService {
  async open(input: { user: User; video: Video | null; deviceId: string; userAgent: string; origin: string }): Promise<ApiSession> {
    const opened = await playback.open(input)
    return {
      sessionId: opened.session.id,
      videoId: opened.session.videoId,
      masterUrl: input.origin + opened.masterUrl,
      urlExpiresAt: new Date(Date.now() + playbackConfig.urlTtlSeconds * 1000).toISOString(),
      expiresAt: opened.session.expiresAt.toISO()!,
      watermarked: opened.session.watermarked,
      forensic: opened.session.forensic,
    }
  }

  /**
   * A returning wallet (SIGN-IN-WITH-X header): the signed challenge is
   * checked and spent, then the session opens for the buyer whose order
   * this wallet paid, if the entitlement chain still says yes for them (a
   * refund, a ban or a takedown ends it as it does for the buyer). A wallet
   * that never paid for the video is refused with 402: it has to buy.
   */
  async openForWallet(input: {
    header: string
    video: Video | null
    userAgent: string
    origin: string
  }): Promise<ApiSession & { wallet: string; accessToken?: string; accessTokenExpiresInDays?: number }> {
    const { video } = input
    const decision = await entitlements.decide(undefined, video)
    if (!decision.allowed && decision.reason !== 'login_required') throw new PlaybackError(decision.reason, decision.status, decision.message)
    const wallet = await signInWithX.verify(input.header, video!.id)
    let refusal: PlaybackError | null = null
    for (const buyer of await walletPayments.buyersFor(wallet, video!.id)) {
      try {
        const opened = await this.open({ user: buyer, video, deviceId: `wallet:${wallet.toLowerCase()}`, userAgent: input.userAgent, origin: input.origin })
        // The account x402 made for a paying wallet has no other credential for its playlist and segment
        // requests: it gets a day's sessions:open token (a person's account makes its own tokens).
        if (!isWalletAccount(buyer)) return { ...opened, wallet }
        const accessToken = await apiTokens.issueShortLived(buyer, `Signed in with wallet ${wallet.slice(0, 10)}…`, 1)
        return { ...opened, wallet, accessToken, accessTokenExpiresInDays: 1 }
      } catch (error) {
        if (!(error instanceof PlaybackError)) throw error
        refusal = error
      }
    }
    if (refusal && refusal.code !== 'payment_required') throw refusal
    throw new PlaybackError('payment_required', 402, 'This wallet has not bought this video (or its purchase was refunded): pay to watch')
  }

  /** A video as a script sees it, with the entitlement chain's answer for `user`. */
  async describe(user: User, video: Video | null) {
    const decision = await entitlements.decide(user, video)
    if (!decision.allowed && decision.reason === 'not_found') throw new PlaybackError('not_found', 404, decision.message)
    return {
      id: video!.id,
      title: video!.title,
      durationSeconds: video!.durationSeconds,
      price: { amount: Number(video!.priceMinor), currency: video!.currency },
      canWatch: decision.allowed,
      ...(decision.allowed ? { via: decision.via } : { reason: decision.reason, message: decision.message }),
    }
  }

  /** The origin the client reached us at, for absolute URLs. */
  originOf(request: HttpContext['request']) {
    return `${request.protocol()}://${request.host()}`
  }
}

const apiSessions = new ApiSessionService()
export default apiSessions
