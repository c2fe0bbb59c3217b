import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import User, { ROLES, type Role } from '#models/user'
import accounts from '#services/account_service'
import audit from '#services/audit_service'
import playback from '#services/playback_service'
import { RefusedActionError } from '#exceptions/refused_action_error'

/** Advisory lock: one admin change to roles or bans at a time (the last-admin rule must hold). */
const ADMIN_CHANGES_LOCK = 7403

/**
 * What admins do to accounts: search them, change roles, ban and unban.
 * Every change is audited with its before and after. An instance always
 * keeps one active admin: nobody bans themselves, and the last admin is
 * neither banned nor demoted.
 */
export class UserAdminService {
  search(input: { q?: string; role?: Role | 'banned'; page?: number }) {
    const query = User.query().orderBy('createdAt', 'desc')
    if (input.q) {
      const pattern = `%${input.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      query.where((q) => q.whereILike('username', pattern).orWhereILike('email', pattern))
    }
    if (input.role === 'banned') query.whereNotNull('bannedAt')
    else if (input.role && (ROLES as readonly string[]).includes(input.role)) query.where('role', input.role)
    return query.paginate(input.page ?? 1, 50)
  }

  async changeRole(actor: User, userId: number, role: Role) {
    await db.transaction(async (trx) => {
      await trx.rawQuery('SELECT pg_advisory_xact_lock(?)', [ADMIN_CHANGES_LOCK])
      const user = await this.#find(userId, trx)
      if (user.role === role) return
      if (user.role === 'admin' && (await this.#otherActiveAdmins(user, trx)) === 0) {
        throw new RefusedActionError('last_admin', 409, 'This is the last admin: make someone else admin first')
      }
      const before = { role: user.role }
      user.useTransaction(trx)
      await accounts.setRole(user, role)
      await audit.record(
        { actor, action: 'user.role', subjectType: 'user', subjectId: user.id, targetUserId: user.id, before, after: { role }, summary: `${actor.username} made ${user.username} ${role} (was ${before.role})` },
        trx
      )
    })
  }

  /** Bans a user: they are logged out on their next request and their playback stops now. */
  async ban(actor: User, userId: number, reason: string) {
    const user = await db.transaction(async (trx) => {
      await trx.rawQuery('SELECT pg_advisory_xact_lock(?)', [ADMIN_CHANGES_LOCK])
      const target = await this.#find(userId, trx)
      if (target.id === actor.id) throw new RefusedActionError('ban_self', 409, 'You cannot ban yourself')
      if (target.bannedAt) throw new RefusedActionError('already_banned', 409, `${target.username} is already banned`)
      if (target.role === 'admin' && (await this.#otherActiveAdmins(target, trx)) === 0) {
        throw new RefusedActionError('last_admin', 409, 'This is the last admin: it cannot be banned')
      }
      target.merge({ bannedAt: DateTime.now(), banReason: reason })
      await target.useTransaction(trx).save()
      await audit.record(
        { actor, action: 'user.ban', subjectType: 'user', subjectId: target.id, targetUserId: target.id, before: { banned: false }, after: { banned: true, reason }, summary: `${actor.username} banned ${target.username}: ${reason}` },
        trx
      )
      return target
    })
    await playback.revoke({ userId: user.id }, 'ban')
    return user
  }

  async unban(actor: User, userId: number) {
    return db.transaction(async (trx) => {
      const user = await this.#find(userId, trx)
      if (!user.bannedAt) throw new RefusedActionError('not_banned', 409, `${user.username} is not banned`)
      const before = { banned: true, reason: user.banReason }
      user.merge({ bannedAt: null, banReason: null })
      await user.useTransaction(trx).save()
      await audit.record(
        { actor, action: 'user.unban', subjectType: 'user', subjectId: user.id, targetUserId: user.id, before, after: { banned: false }, summary: `${actor.username} lifted the ban of ${user.username}` },
        trx
      )
      return user
    })
  }

  /** An admin decides a pending creator application; audited. A decided one is refused. */
  async decideCreatorApplication(actor: User, userId: number, decision: 'approve' | 'reject') {
    return db.transaction(async (trx) => {
      const user = await this.#find(userId, trx)
      if (user.creatorStatus !== 'pending') {
        throw new RefusedActionError('not_pending', 409, `${user.username} has no pending creator application`)
      }
      const before = { role: user.role, creatorStatus: user.creatorStatus }
      user.useTransaction(trx)
      if (decision === 'approve') await accounts.setRole(user, 'creator')
      else {
        user.creatorStatus = 'rejected'
        await user.save()
      }
      await audit.record(
        {
          actor,
          action: `creator_application.${decision}`,
          subjectType: 'user',
          subjectId: user.id,
          targetUserId: user.id,
          before,
          after: { role: user.role, creatorStatus: user.creatorStatus },
          summary: `${actor.username} ${decision === 'approve' ? 'approved' : 'declined'} the creator application of ${user.username}`,
        },
        trx
      )
      return user
    })
  }

  async #find(userId: number, trx: TransactionClientContract) {
    const user = Number.isSafeInteger(userId) ? await User.query({ client: trx }).where('id', userId).forUpdate().first() : null
    if (!user) throw new RefusedActionError('not_found', 404, 'There is no such user')
    return user
  }

  async #otherActiveAdmins(user: User, trx: TransactionClientContract) {
    const row = await User.query({ client: trx }).where('role', 'admin').whereNull('bannedAt').whereNot('id', user.id).count('* as total').first()
    return Number(row?.$extras.total ?? 0)
  }
}

const userAdmin = new UserAdminService()
export default userAdmin
