import { DateTime } from 'luxon'
import { PlaybackSessionSchema } from '#database/schema'
import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import User from '#models/user'
import Video from '#models/video'
import { sessionPrefix } from '#services/media/storage_keys'

export type RevokeReason = 'logout' | 'replaced' | 'takedown' | 'refund' | 'dispute' | 'ban' | 'revoked' | 'ended' | 'entitlement'
  /** What granted the session ran out (a rental, a pass, a membership). */
  | 'rental_ended'
  | 'pass_ended'
  | 'membership_ended'
  | 'access_ended'

export default class PlaybackSession extends PlaybackSessionSchema {
  static table = 'playback_sessions'
  static selfAssignPrimaryKey = true

  declare revokeReason: RevokeReason | null

  @belongsTo(() => User)
  declare user: BelongsTo<typeof User>

  @belongsTo(() => Video)
  declare video: BelongsTo<typeof Video>

  get isRevoked() {
    return this.revokedAt !== null
  }

  /** The rental or pass that granted it has ended (the chain is asked again). */
  get accessHasEnded() {
    return this.accessEndsAt !== null && this.accessEndsAt <= DateTime.now()
  }

  get isExpired() {
    return this.expiresAt <= DateTime.now()
  }

  /** Where the session's just-in-time renders are cached. */
  get storagePrefix() {
    return sessionPrefix(this.id)
  }

  /** The short code drawn beside the viewer's name. */
  get shortCode() {
    return this.id.replace(/-/g, '').slice(0, 6).toUpperCase()
  }
}
