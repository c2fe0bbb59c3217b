import type { DateTime } from 'luxon'
import type { EntitlementSource } from '#hooks/contracts'
import type User from '#models/user'
import type Video from '#models/video'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import plugins from '#services/plugins'
import grants from '#services/commerce/grants'
import { PlaybackError } from '#exceptions/playback_error'

export type EntitlementDenial = 'not_found' | 'login_required' | 'not_ready' | 'taken_down' | 'payment_required' | 'archived' | 'banned'

export type EntitlementDecision =
  /**
   * `via`: the source that granted (`purchase`, `rental`, `pass`, `membership`
   * for what the viewer holds); `endsAt`: when that access ends (a rental, a
   * pass), null or absent when it does not.
   */
  | { allowed: true; via: string; endsAt?: DateTime | null }
  | { allowed: false; reason: EntitlementDenial; status: number; message: string }

const deny = (reason: EntitlementDenial, status: number, message: string): EntitlementDecision => ({
  allowed: false,
  reason,
  status,
  message,
})

/**
 * Sources that offer a video to anyone rather than record what a viewer
 * holds: an archived video is no longer offered, so they stop granting it.
 */
const OFFERS = new Set(['free'])

const exists = async (query: ReturnType<typeof db.from>) => !!(await query.select(db.raw('1')).first())

/** The core's own reasons to watch, asked before the plugins' sources. */
const CORE_SOURCES: EntitlementSource[] = [
  { id: 'owner', label: 'Owns the video', grants: ({ user, video }) => user.id === video.ownerId },
  { id: 'admin', label: 'Administrator', grants: ({ user }) => user.role === 'admin' },
  { id: 'free', label: 'Free video', grants: ({ video }) => video.priceMinor === 0 },
  {
    id: 'allowlist',
    label: 'On the video\'s allowlist',
    grants: ({ user, video }) => exists(db.from('allowlist_entries').where({ video_id: video.id, user_id: user.id })),
  },
]

/**
 * The entitlement chain: may this user watch this video now? Asked when a
 * playback session opens and again on every playlist and segment request.
 * Plugins add reasons to watch through the kernel's `entitlements` registry;
 * they are asked after the core's own (owner, admin, free, allowlist, then
 * what the viewer holds: a purchase, a bundle, a rental, a pass, a
 * membership, each with its window).
 * An archived video keeps every source but the offers (free): buyers, the
 * allowlist, the owner, admins and plugin grants still play it.
 */
export class EntitlementService {
  sources(): EntitlementSource[] {
    return [...CORE_SOURCES, ...plugins.entitlements.all()]
  }

  /**
   * `startRental`: this is a first play (a playback session opening), so a
   * rental not started yet starts its clock now.
   */
  async decide(user: User | undefined, video: Video | null, options: { startRental?: boolean } = {}): Promise<EntitlementDecision> {
    if (!video) return deny('not_found', 404, 'There is no such video')
    const manager = !!user && (user.isAdmin || user.id === video.ownerId)
    // Strangers learn nothing about drafts and unfinished videos.
    if (!manager && (video.visibility !== 'published' || video.status !== 'ready')) {
      return deny('not_found', 404, 'There is no such video')
    }
    if (video.isTakenDown) return deny('taken_down', 403, 'This video was taken down')
    if (video.status !== 'ready') return deny('not_ready', 409, 'This video is still processing')
    if (!user) return deny('login_required', 401, 'Log in to watch this video')
    if (user.bannedAt) return deny('banned', 403, 'Your account is banned')

    const request = {
      user: { id: user.id, username: user.username, role: user.role },
      video: { id: video.id, ownerId: video.ownerId, priceMinor: video.priceMinor, currency: video.currency },
    }
    const grantedBy = async (sources: EntitlementSource[]): Promise<EntitlementDecision | null> => {
      for (const source of sources) {
        if (video.isArchived && OFFERS.has(source.id)) continue
        try {
          if ((await source.grants(request)) === true) return { allowed: true, via: source.id }
        } catch (error) {
          // A broken source grants nothing (fail closed) and the others still count.
          logger.error({ err: error, source: source.id }, 'entitlement source failed')
        }
      }
      return null
    }
    // The core's own sources, then what the viewer holds, then the plugins'.
    const granted =
      (await grantedBy(CORE_SOURCES)) ??
      (await this.#held(user, video, options.startRental === true)) ??
      (await grantedBy(plugins.entitlements.all()))
    if (granted) return granted
    // Archived: whoever holds it keeps watching (above); nobody new may buy it.
    if (video.isArchived) return deny('archived', 403, 'The creator archived this video: it is no longer for sale')
    return deny('payment_required', 402, 'Buy this video to watch it')
  }

  async #held(user: User, video: Video, startRental: boolean): Promise<EntitlementDecision | null> {
    try {
      let holding = await grants.heldFor(user.id, video)
      if (!holding) return null
      // A rental not started grants a first play, which starts it; anything else (a page asking) leaves it waiting.
      if (holding.unstarted && startRental) holding = await grants.startRental(holding)
      return holding.endsAt ? { allowed: true, via: holding.kind, endsAt: holding.endsAt } : { allowed: true, via: holding.kind }
    } catch (error) {
      logger.error({ err: error, source: 'held' }, 'entitlement source failed')
      return null
    }
  }

  /** The chain's answer as a playback refusal: throws unless the user may watch. */
  async authorize(user: User | undefined, video: Video | null, options: { startRental?: boolean } = {}) {
    const decision = await this.decide(user, video, options)
    if (!decision.allowed) throw new PlaybackError(decision.reason, decision.status, decision.message)
    return video!
  }
}

const entitlements = new EntitlementService()
export default entitlements
