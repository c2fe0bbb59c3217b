import { DateTime } from 'luxon'
import { errors as vineErrors } from '@vinejs/vine'
import db from '@adonisjs/lucid/services/db'
import User, { type Role } from '#models/user'
import plugins from '#services/plugins'
import playback from '#services/playback_service'
import app from '@adonisjs/core/services/app'

/**
 * A rule broken by otherwise valid input. It is a VineJS validation error, so
 * forms show it next to the field like any other.
 */
export function accountError(field: string, message: string, rule = 'account') {
  return new vineErrors.E_VALIDATION_ERROR([{ field, message, rule }])
}

/**
 * Account rules: creating accounts, roles and creator applications.
 */
export class AccountService {
  /**
   * Creates a viewer account. The validator checks uniqueness first; the
   * database's unique indexes settle a race between two equal sign-ups.
   */
  async register(input: { username: string; email: string; password: string }, role: Role = 'viewer') {
    let user: User
    try {
      user = await User.create({
        username: input.username.trim(),
        email: User.normalizeEmail(input.email),
        password: input.password,
        role,
        creatorStatus: role === 'viewer' ? 'none' : 'approved',
      })
    } catch (error: any) {
      if (error?.code === '23505') {
        const field = String(error.constraint ?? '').includes('username') ? 'username' : 'email'
        throw accountError(field, `This ${field} is already taken`, 'database.unique')
      }
      throw error
    }
    await plugins.hooks.doAction('user:registered', { user: user.toHookUser() })
    return user
  }

  /**
   * A viewer asks to become a creator: granted at once, or queued for an
   * admin, depending on config/accounts.ts.
   */
  async applyForCreator(user: User): Promise<'approved' | 'pending'> {
    if (user.hasRole('creator')) return 'approved'
    if (app.config.get('accounts.creatorApproval') === 'instant') {
      await this.setRole(user, 'creator')
      return 'approved'
    }
    user.creatorStatus = 'pending'
    user.creatorAppliedAt = DateTime.now()
    await user.save()
    return 'pending'
  }

  pendingCreatorApplications() {
    return User.query().where('creatorStatus', 'pending').orderBy('creatorAppliedAt', 'asc')
  }

  async setRole(user: User, role: Role) {
    const from = user.role
    user.role = role
    user.creatorStatus = role === 'viewer' ? 'none' : 'approved'
    await user.save()
    if (from !== role) {
      await plugins.hooks.doAction('user:role_changed', { user: user.toHookUser(), from, to: role })
    }
  }

  /**
   * Creates an admin, or promotes the existing account with that email.
   */
  async ensureAdmin(input: { username: string; email: string; password: string }) {
    return db.transaction(async (trx) => {
      const existing = await User.query({ client: trx }).where('email', User.normalizeEmail(input.email)).first()
      if (existing) {
        existing.role = 'admin'
        existing.creatorStatus = 'approved'
        existing.password = input.password
        await existing.useTransaction(trx).save()
        return { user: existing, created: false }
      }
      const user = await User.create(
        {
          username: input.username,
          email: User.normalizeEmail(input.email),
          password: input.password,
          role: 'admin',
          creatorStatus: 'approved',
        },
        { client: trx }
      )
      return { user, created: true }
    })
  }

  async changePassword(user: User, currentPassword: string, newPassword: string) {
    if (!(await user.verifyPassword(currentPassword))) {
      throw accountError('current_password', 'The current password is incorrect')
    }
    user.password = newPassword
    await user.save()
    await this.passwordChanged(user)
  }

  /**
   * After a password change or reset: every playback session of the user
   * ends at once (players are told over Transmit). Other web sessions end on
   * their next request, as they were opened with the old password (see
   * WebSessions).
   */
  async passwordChanged(user: User) {
    await playback.revoke({ userId: user.id }, 'logout')
    await plugins.hooks.doAction('user:password_changed', { user: user.toHookUser() })
  }
}

const accounts = new AccountService()
export default accounts
