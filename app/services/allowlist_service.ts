import db from '@adonisjs/lucid/services/db'
import AllowlistEntry from '#models/allowlist_entry'
import User from '#models/user'
import type Video from '#models/video'
import videos from '#services/video_service'
import audit from '#services/audit_service'
import playback from '#services/playback_service'
import entitlements from '#services/entitlement_service'
import { CommerceError } from '#exceptions/commerce_error'

/**
 * Free access to one video, granted by its creator or an admin. Entries
 * point at user ids (a renamed viewer keeps access); every grant and
 * revoke goes to the audit log.
 */
export class AllowlistService {
  entriesOf(video: Video) {
    return AllowlistEntry.query().where('videoId', video.id).preload('user').preload('granter').orderBy('createdAt', 'desc')
  }

  /** Every entry of every video (admins), newest first. */
  all(page = 1) {
    return AllowlistEntry.query().preload('user').preload('granter').preload('video').orderBy('createdAt', 'desc').paginate(page, 50)
  }

  /** Videos a viewer may watch free because of an allowlist. */
  videosFor(user: User) {
    return AllowlistEntry.query().where('userId', user.id).preload('video', (q) => q.preload('owner')).orderBy('createdAt', 'desc')
  }

  /** `identifier` is a username or an email address. */
  async grant(actor: User, video: Video, identifier: string) {
    this.#assertManager(actor, video)
    const needle = identifier.trim()
    const byEmail = needle.includes('@')
    const user = byEmail ? await User.findByEmail(needle) : await User.findByUsername(needle)
    if (!user) {
      throw new CommerceError(
        'unknown_user',
        422,
        `No account has the ${byEmail ? 'email' : 'username'} “${needle}”. Ask them to create an account first.`
      )
    }
    if (user.id === actor.id) throw new CommerceError('self', 422, 'You cannot add yourself: you can already watch this video')
    if (user.id === video.ownerId) throw new CommerceError('owner', 422, `${user.username} owns this video`)
    if (user.bannedAt) throw new CommerceError('banned', 422, `${user.username} is banned and cannot be given access`)

    await db.transaction(async (trx) => {
      const inserted = await trx
        .table('allowlist_entries')
        .insert({ video_id: video.id, user_id: user.id, granted_by: actor.id, created_at: new Date() })
        .onConflict(['video_id', 'user_id'])
        .ignore()
        .returning('user_id')
      if (!inserted.length) throw new CommerceError('already_listed', 409, `${user.username} is already on the allowlist`)
      await audit.record(
        {
          actor,
          action: 'allowlist.grant',
          subjectType: 'video',
          subjectId: video.id,
          targetUserId: user.id,
          before: null,
          after: { videoId: video.id, userId: user.id, username: user.username },
          summary: `${actor.username} gave ${user.username} free access to "${video.title}"`,
        },
        trx
      )
    })
    return user
  }

  async revoke(actor: User, video: Video, userId: number) {
    this.#assertManager(actor, video)
    const user = await User.find(userId)
    await db.transaction(async (trx) => {
      const deleted = await trx.from('allowlist_entries').where({ video_id: video.id, user_id: userId }).delete()
      if (!deleted || !user) throw new CommerceError('not_listed', 404, 'That viewer is not on the allowlist')
      await audit.record(
        {
          actor,
          action: 'allowlist.revoke',
          subjectType: 'video',
          subjectId: video.id,
          targetUserId: user.id,
          before: { videoId: video.id, userId: user.id, username: user.username },
          after: null,
          summary: `${actor.username} removed ${user.username}'s free access to "${video.title}"`,
        },
        trx
      )
    })
    // Their open sessions end, unless they may still watch (they bought it).
    const access = await entitlements.decide(user!, video)
    if (!access.allowed) await playback.revoke({ userId, videoId: video.id }, 'revoked')
    return user!
  }

  #assertManager(actor: User, video: Video) {
    if (!videos.canManage(actor, video)) throw new CommerceError('forbidden', 403, 'Only the creator or an admin manages this allowlist')
  }
}

const allowlists = new AllowlistService()
export default allowlists
