import { DateTime } from 'luxon'
import type { HttpContext } from '@adonisjs/core/http'
import type { AccessToken } from '@adonisjs/auth/access_tokens'
import User from '#models/user'
import { PlaybackError } from '#exceptions/playback_error'

/**
 * What a personal API token may do. A token carries one or more; a request
 * needing a scope the token lacks is refused with 403 `insufficient_scope`.
 */
export const API_SCOPES = {
  'sessions:open': 'Open playback sessions for videos you own or bought (and fetch their playlists and segments)',
  'videos:read': 'Read-only: see videos and whether you may watch them',
} as const

export type ApiScope = keyof typeof API_SCOPES

export const API_SCOPE_NAMES = Object.keys(API_SCOPES) as ApiScope[]

/** A user may keep this many tokens; they revoke one to make room. */
export const MAX_TOKENS_PER_USER = 20

/** What the account page lists of a token (never its secret). */
export interface ListedToken {
  id: number
  name: string
  scopes: string[]
  createdAt: Date
  lastUsedAt: Date | null
  expiresAt: Date | null
  expired: boolean
  /** The same dates as the account page writes them (UTC). */
  labels: { created: string; lastUsed: string; expires: string }
}

const when = (date: Date | null, none: string) =>
  date ? DateTime.fromJSDate(date).toUTC().toFormat("d LLL yyyy HH:mm 'UTC'") : none

export class ApiTokenError extends Error {
  constructor(message: string) {
    super(message)
  }
}

/**
 * Personal API tokens: AdonisJS access tokens (only a hash of each secret is
 * stored) with scopes, created and revoked on the account page and sent by
 * scripts as `Authorization: Bearer mat_...` to /api/v1.
 */
export class ApiTokenService {
  /** Creates a token; its secret is in the result once and never again. */
  async create(user: User, input: { name: string; scopes: ApiScope[]; expiresInDays?: number | null }) {
    const scopes = [...new Set(input.scopes)].filter((scope) => API_SCOPE_NAMES.includes(scope))
    if (!scopes.length) throw new ApiTokenError('Choose at least one permission for the token')
    const existing = await User.accessTokens.all(user)
    if (existing.length >= MAX_TOKENS_PER_USER) {
      throw new ApiTokenError(`You already have ${MAX_TOKENS_PER_USER} tokens: revoke one you no longer use first`)
    }
    const token = await User.accessTokens.create(user, scopes, {
      name: input.name,
      expiresIn: input.expiresInDays ? `${input.expiresInDays} days` : undefined,
    })
    return { id: Number(token.identifier), secret: token.value!.release() }
  }

  async list(user: User): Promise<ListedToken[]> {
    const tokens = await User.accessTokens.all(user)
    return tokens
      .map((token) => ({
        id: Number(token.identifier),
        name: token.name ?? '',
        scopes: token.abilities,
        createdAt: token.createdAt,
        lastUsedAt: token.lastUsedAt,
        expiresAt: token.expiresAt,
        expired: token.isExpired(),
        labels: {
          created: when(token.createdAt, ''),
          lastUsed: when(token.lastUsedAt, 'Never'),
          expires: when(token.expiresAt, 'Never'),
        },
      }))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
  }

  /** Revokes (deletes) one of the user's tokens; false when they have no such token. */
  async revoke(user: User, tokenId: number) {
    return (await User.accessTokens.delete(user, tokenId)) > 0
  }

  /**
   * The user behind the request's bearer token, if it is one of ours, live,
   * and allows `scope`. A missing, forged, revoked or expired token is a 401;
   * a banned user's token a 403; a token without the scope a 403.
   */
  async authenticate(ctx: Pick<HttpContext, 'auth'>, scope: ApiScope): Promise<{ user: User; token: AccessToken }> {
    const guard = ctx.auth.use('api')
    let user: User & { currentAccessToken: AccessToken }
    try {
      user = await guard.authenticate()
    } catch {
      throw new PlaybackError('invalid_token', 401, 'The API token is missing, revoked, expired or not valid', {
        'WWW-Authenticate': 'Bearer realm="matinee", error="invalid_token"',
      })
    }
    const token = user.currentAccessToken
    if (user.bannedAt) throw new PlaybackError('banned', 403, 'Your account is banned')
    if (!token.allows(scope)) {
      throw new PlaybackError('insufficient_scope', 403, `This token may not do that: it needs the "${scope}" permission`, {
        'WWW-Authenticate': `Bearer realm="matinee", error="insufficient_scope", scope="${scope}"`,
      })
    }
    return { user, token }
  }

  /**
   * A short-lived sessions:open token the server gives an account that has
   * no other way to authenticate its playlist and segment requests (a
   * wallet's account, after it paid or signed in). Expired ones are dropped
   * first, then the oldest when the account holds the most it may.
   */
  async issueShortLived(user: User, name: string, days: number) {
    const tokens = await User.accessTokens.all(user)
    const stale = tokens.filter((token) => token.isExpired())
    const live = tokens.filter((token) => !token.isExpired()).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
    while (live.length >= MAX_TOKENS_PER_USER - 1) stale.push(live.shift()!)
    for (const token of stale) await User.accessTokens.delete(user, token.identifier)
    const token = await User.accessTokens.create(user, ['sessions:open'], { name, expiresIn: `${days} days` })
    return token.value!.release()
  }

  /** The playback device of sessions a token opens: reopening a video with the same token replaces its session. */
  deviceOf(token: AccessToken) {
    return `api-token:${token.identifier}`
  }
}

const apiTokens = new ApiTokenService()
export default apiTokens
