import { UserSchema } from '#database/schema'
import hash from '@adonisjs/core/services/hash'
import { compose } from '@adonisjs/core/helpers'
import { withAuthFinder } from '@adonisjs/auth/mixins/lucid'
import { DbAccessTokensProvider } from '@adonisjs/auth/access_tokens'
import type { HookUser } from '#hooks/hook_names'
import type { LucidModel } from '@adonisjs/lucid/types/model'
import { afterDelete, afterSave } from '@adonisjs/lucid/orm'
import { invalidatePlaybackAfterCommit } from '#services/playback/session_cache'

export const ROLES = ['viewer', 'creator', 'admin'] as const
export type Role = (typeof ROLES)[number]
export type CreatorStatus = 'none' | 'pending' | 'approved' | 'rejected'

const AuthFinder = withAuthFinder(hash, { uids: ['email', 'username'], passwordColumnName: 'password' })

export default class User extends compose(UserSchema, AuthFinder) {
  declare role: Role
  declare creatorStatus: CreatorStatus

  /**
   * Personal API tokens (Account → API tokens): `mat_` secrets a user's
   * scripts send as `Authorization: Bearer`; see app/services/accounts/api_tokens.ts.
   */
  static accessTokens = DbAccessTokensProvider.forModel(User, {
    prefix: 'mat_',
    table: 'auth_access_tokens',
    type: 'personal_token',
    tokenSecretLength: 40,
  })

  /**
   * Web nodes hold this user's playback sessions with the entitlement
   * chain's answer: any change (banned, no longer admin, deleted) makes them
   * ask again.
   */
  @afterSave()
  @afterDelete()
  static async recheckPlayback(user: User) {
    await invalidatePlaybackAfterCommit(user, { userId: user.id })
  }

  /**
   * Login accepts an email or a username, in any case. Emails are stored
   * normalised (lowercase), usernames compared with lower().
   */
  static async findForAuth<T extends LucidModel>(this: T, _uids: string[], value: string) {
    const needle = String(value).trim().toLowerCase()
    const user = await this.query().where('email', needle).orWhereRaw('lower(username) = ?', [needle]).first()
    return user as InstanceType<T> | null
  }

  static findByUsername(username: string) {
    return this.query().whereRaw('lower(username) = ?', [username.trim().toLowerCase()]).first()
  }

  static findByEmail(email: string) {
    return this.query().where('email', User.normalizeEmail(email)).first()
  }

  static normalizeEmail(email: string) {
    return email.trim().toLowerCase()
  }

  /** Admins may do anything a creator may. */
  hasRole(...roles: Role[]) {
    return roles.includes(this.role) || this.role === 'admin'
  }

  get isCreator() {
    return this.hasRole('creator')
  }

  get isAdmin() {
    return this.role === 'admin'
  }

  /** The name pages show: the display name a creator chose, else the username. */
  get publicName() {
    return this.displayName?.trim() || this.username
  }

  /** Where a creator's page is: `/@username`. */
  get profileUrl() {
    return `/@${this.username}`
  }

  /** The avatar's URL (changes with the picture, so it can be cached), or null. */
  get avatarUrl() {
    return this.avatarKey ? `/@${this.username}/avatar?v=${encodeURIComponent(this.avatarKey.split('/').pop() ?? '')}` : null
  }

  toHookUser(): HookUser {
    return { id: this.id, username: this.username, email: this.email, role: this.role }
  }
}
