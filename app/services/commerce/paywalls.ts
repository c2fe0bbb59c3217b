import { randomBytes } from 'node:crypto'
import type { HttpContext } from '@adonisjs/core/http'
import type { AccessToken } from '@adonisjs/auth/access_tokens'
import logger from '@adonisjs/core/services/logger'
import User from '#models/user'
import type Video from '#models/video'
import plugins from '#services/plugins'
import checkouts from '#services/commerce/checkout'
import entitlements from '#services/entitlement_service'
import apiSessions from '#services/playback/api_sessions'
import signInWithX, { SIGN_IN_WITH_X } from '#services/wallets/sign_in_with_x'
import { RefusedActionError } from '#exceptions/refused_action_error'
import { PlaybackError } from '#exceptions/playback_error'
import { PaywallRefusal, type Paywall, type PaywallBuyer, type PaywallReply } from '#hooks/paywalls'

/** Accounts made for paying wallets carry this e-mail domain (reserved, RFC 2606: nothing is ever mailed there). */
export const WALLET_EMAIL_DOMAIN = 'wallet.invalid'
/** How long the API token handed to a wallet buyer (for its playlist and segment requests) lives. */
const WALLET_TOKEN_DAYS = 1
const WALLET_TOKEN_NAME = 'Paid by wallet (x402)'

/**
 * Pay-per-request over HTTP for the JSON API (x402): the core side. A
 * plugin's paywall speaks the protocol and settles; the core hands it the
 * accounts, the checkout (the same order a browser buyer gets, shown in
 * Studio → Sales) and the playback session (the same entitlement chain and
 * signed URLs), and writes its answer.
 */
export class PaywallService {
  /** The paywall this request speaks to (its protocol's header), else the first one (it issues the challenge). */
  for(headers: Record<string, string | undefined>): Paywall | null {
    const all = plugins.paywalls.all()
    return all.find((paywall) => paywall.claims(headers)) ?? all[0] ?? null
  }

  /** Whether `user` may watch `video` now (the entitlement chain). */
  async mayWatch(user: User, video: Video | null) {
    return (await entitlements.decide(user, video)).allowed
  }

  /**
   * Answers GET /api/v1/videos/:id/session through `paywall` for a client
   * without access (anonymous, or a token whose user has not bought it).
   */
  async answer(ctx: HttpContext, input: { paywall: Paywall; user: User | null; token: AccessToken | null; video: Video | null }) {
    const { request, response } = ctx
    const video = input.video
    if (!video || !video.isPublic) throw new PlaybackError('not_found', 404, 'There is no such video')
    const price = await checkouts.priceOf(video, input.user ?? undefined)
    if (price.amount <= 0) {
      throw new PlaybackError('invalid_token', 401, 'This video is free: send a personal API token (Authorization: Bearer)', {
        'WWW-Authenticate': 'Bearer realm="matinee"',
      })
    }
    const usersById = new Map<number, User>()
    if (input.user) usersById.set(input.user.id, input.user)
    const userOf = async (buyer: PaywallBuyer) => usersById.get(buyer.id) ?? (await User.findOrFail(buyer.id))
    const headers: Record<string, string | undefined> = {}
    for (const [name, value] of Object.entries(request.headers())) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value

    let reply: PaywallReply
    try {
      reply = await input.paywall.handle({
        resourceUrl: `${apiSessions.originOf(request)}${request.url()}`,
        headers,
        video: { id: video.id, title: video.title, price, creatorId: video.ownerId },
        user: input.user ? { id: input.user.id, walletAccount: isWalletAccount(input.user) } : null,
        accountFor: async (wallet) => {
          const user = await this.accountFor(wallet.address)
          usersById.set(user.id, user)
          return { id: user.id, walletAccount: isWalletAccount(user) }
        },
        mayWatch: async (buyer) => this.mayWatch(await userOf(buyer), video),
        // A wallet that bought it before signs this instead of paying (SIGN-IN-WITH-X, see api_sessions).
        extensions: async () => ({ [SIGN_IN_WITH_X]: await signInWithX.challenge(video.id) }),
        checkout: async (buyer, providerId) => {
          try {
            const order = await checkouts.checkout(await userOf(buyer), video.id, providerId)
            return { orderId: order.id, status: order.status, amount: { amount: order.amountMinor, currency: order.currency } }
          } catch (error) {
            if (error instanceof RefusedActionError) throw new PaywallRefusal(error.code, error.status, error.message)
            throw error
          }
        },
        openSession: async (buyer, device) => {
          const user = await userOf(buyer)
          try {
            const session = await apiSessions.open({
              user,
              video,
              deviceId: input.token && input.user?.id === user.id ? `api-token:${input.token.identifier}` : `paywall:${device}`.slice(0, 64),
              userAgent: request.header('user-agent') ?? '',
              origin: apiSessions.originOf(request),
            })
            // A caller with a token already authenticates its segment requests; a wallet gets one.
            const accessToken = input.token && input.user?.id === user.id ? null : await this.#walletToken(user)
            return { ...session, ...(accessToken ? { accessToken, accessTokenExpiresInDays: WALLET_TOKEN_DAYS } : {}) }
          } catch (error) {
            if (error instanceof PlaybackError) throw new PaywallRefusal(String(error.code), error.status, error.message)
            throw error
          }
        },
      })
    } catch (error) {
      if (error instanceof PaywallRefusal) return response.status(error.status).json({ error: error.code, message: error.message })
      throw error
    }
    response.header('Cache-Control', 'no-store')
    for (const [name, value] of Object.entries(reply.headers ?? {})) response.header(name, value)
    return response.status(reply.status).json(reply.body)
  }

  /**
   * The account of a paying wallet: the one made for it before, else a new
   * viewer whose e-mail is `<address>@wallet.invalid` and whose password
   * nobody knows (it signs in with its wallet). Two first payments racing
   * end on the same account (the e-mail is unique).
   */
  async accountFor(address: string): Promise<User> {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new PaywallRefusal('invalid_payer', 400, 'The payer is not a wallet address')
    const email = `${address.toLowerCase()}@${WALLET_EMAIL_DOMAIN}`
    let user = await User.findBy('email', email)
    if (!user) {
      try {
        user = await User.create({
          username: `w-${address.slice(2, 28).toLowerCase()}`,
          email,
          password: randomBytes(32).toString('base64url'),
          role: 'viewer',
          creatorStatus: 'none',
        })
        logger.info({ userId: user.id, wallet: address }, 'account made for a paying wallet')
      } catch (error: any) {
        if (error?.code !== '23505') throw error
        user = await User.findByOrFail('email', email)
      }
    }
    if (user.bannedAt) throw new PaywallRefusal('account_banned', 403, 'The account of this wallet is banned')
    return user
  }

  /**
   * A personal API token (sessions:open, a day) for a wallet's account: its
   * script sends it with the playlist and segment requests, and may reopen
   * what it bought with it. Expired ones are dropped first, and the oldest
   * when the account holds the most tokens it may.
   */
  async #walletToken(user: User) {
    const tokens = await User.accessTokens.all(user)
    const stale = tokens.filter((token) => token.isExpired())
    const live = tokens.filter((token) => !token.isExpired()).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    while (live.length >= 19) stale.push(live.shift()!)
    for (const token of stale) await User.accessTokens.delete(user, token.identifier)
    const token = await User.accessTokens.create(user, ['sessions:open'], { name: WALLET_TOKEN_NAME, expiresIn: `${WALLET_TOKEN_DAYS} days` })
    return token.value!.release()
  }
}

export function isWalletAccount(user: User) {
  return user.email.endsWith(`@${WALLET_EMAIL_DOMAIN}`)
}

const paywalls = new PaywallService()
export default paywalls
