import type { EntitlementSource } from '#hooks/contracts'
import type User from '#models/user'
import type Video from '#models/video'
import logger from '@adonisjs/core/services/logger'
import plugins from '#services/plugins'
import { PlaybackError } from '#exceptions/playback_error'

export type EntitlementDenial = 'not_found' | 'login_required' | 'not_ready' | 'taken_down' | 'payment_required'

export type EntitlementDecision =
  | { allowed: true; via: string }
  | { allowed: false; reason: EntitlementDenial; status: number; message: string }

const deny = (reason: EntitlementDenial, status: number, message: string): EntitlementDecision => ({
  allowed: false,
  reason,
  status,
  message,
})

/** The core's own reasons to watch; later sources (allowlist, purchases) follow them. */
const CORE_SOURCES: EntitlementSource[] = [
  { id: 'owner', label: 'Owns the video', grants: ({ user, video }) => user.id === video.ownerId },
  { id: 'admin', label: 'Administrator', grants: ({ user }) => user.role === 'admin' },
  { id: 'free', label: 'Free video', grants: ({ video }) => video.priceMinor === 0 },
]

/**
 * The entitlement chain: may this user watch this video now? Asked when a
 * playback session opens and again on every playlist and segment request.
 * Other reasons to watch (the allowlist, purchases, plugins) are registered
 * in the plugin kernel's `entitlements` registry (`register(source, 'core')`
 * for core features) and asked after the built-in ones.
 */
export class EntitlementService {
  sources(): EntitlementSource[] {
    return [...CORE_SOURCES, ...plugins.entitlements.all()]
  }

  async decide(user: User | undefined, video: Video | null): Promise<EntitlementDecision> {
    if (!video) return deny('not_found', 404, 'There is no such video')
    const manager = !!user && (user.isAdmin || user.id === video.ownerId)
    // Strangers learn nothing about drafts and unfinished videos.
    if (!manager && (video.visibility !== 'published' || video.status !== 'ready')) {
      return deny('not_found', 404, 'There is no such video')
    }
    if (video.isTakenDown) return deny('taken_down', 403, 'This video was taken down')
    if (video.status !== 'ready') return deny('not_ready', 409, 'This video is still processing')
    if (!user) return deny('login_required', 401, 'Log in to watch this video')

    const request = {
      user: { id: user.id, username: user.username, role: user.role },
      video: { id: video.id, ownerId: video.ownerId, priceMinor: video.priceMinor, currency: video.currency },
    }
    for (const source of this.sources()) {
      try {
        if ((await source.grants(request)) === true) return { allowed: true, via: source.id }
      } catch (error) {
        // A broken source grants nothing (fail closed) and the others still count.
        logger.error({ err: error, source: source.id }, 'entitlement source failed')
      }
    }
    return deny('payment_required', 402, 'Buy this video to watch it')
  }

  /** The chain's answer as a playback refusal: throws unless the user may watch. */
  async authorize(user: User | undefined, video: Video | null) {
    const decision = await this.decide(user, video)
    if (!decision.allowed) throw new PlaybackError(decision.reason, decision.status, decision.message)
    return video!
  }
}

const entitlements = new EntitlementService()
export default entitlements
