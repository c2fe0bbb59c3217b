import { createHash, randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import mail from '@adonisjs/mail/services/main'
import logger from '@adonisjs/core/services/logger'
import User from '#models/user'
import PasswordResetToken from '#models/password_reset_token'
import PasswordResetMail from '#mails/password_reset_mail'
import accounts from '#services/account_service'
import accountsConfig from '#config/accounts'
import { appUrl } from '#config/app'

export class InvalidResetTokenError extends Error {
  constructor() {
    super('This reset link is invalid, has expired or was already used. Ask for a new one.')
  }
}

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex')

/**
 * Password resets by email. Tokens are random, stored only as a SHA-256 hash,
 * expire, and are consumed atomically so that each works exactly once.
 */
export class PasswordResetService {
  /**
   * Sends a reset link when the email belongs to an account. The caller gets
   * the same answer either way, and the mail goes out in the background, so
   * neither the answer nor its timing tells whether the account exists.
   */
  async request(email: string): Promise<void> {
    const user = await User.findByEmail(email)
    if (!user) return

    const token = randomBytes(32).toString('base64url')
    const ttl = accountsConfig.passwordResetTtlMinutes
    await PasswordResetToken.create({
      userId: user.id,
      tokenHash: hashToken(token),
      expiresAt: DateTime.now().plus({ minutes: ttl }),
    })
    const resetUrl = new URL(`/reset-password/${token}`, appUrl).href
    mail.sendLater(new PasswordResetMail(user, resetUrl, ttl)).catch((error) => {
      logger.error({ err: error, userId: user.id }, 'could not send the password reset email')
    })
  }

  #usableToken(token: string) {
    return PasswordResetToken.query()
      .where('tokenHash', hashToken(token))
      .whereNull('usedAt')
      .where('expiresAt', '>', DateTime.now().toSQL()!)
      .first()
  }

  /** True when the token could still be used (for showing the form). */
  async isUsable(token: string) {
    return !!(await this.#usableToken(token))
  }

  /** The account a still usable token would reset, else null. */
  async ownerOf(token: string) {
    const row = await this.#usableToken(token)
    return row ? User.find(row.userId) : null
  }

  /**
   * Consumes the token and sets the new password in one transaction; every
   * other outstanding token of that user dies with it.
   */
  async reset(token: string, newPassword: string): Promise<User> {
    const user = await db.transaction(async (trx) => {
      const consumed = await trx
        .from('password_reset_tokens')
        .where('token_hash', hashToken(token))
        .whereNull('used_at')
        .where('expires_at', '>', new Date())
        .update({ used_at: new Date() })
        .returning('user_id')
      if (consumed.length !== 1) throw new InvalidResetTokenError()

      const owner = await User.findOrFail(consumed[0].user_id, { client: trx })
      owner.password = newPassword
      await owner.save()
      await trx.from('password_reset_tokens').where('user_id', owner.id).whereNull('used_at').update({ used_at: new Date() })
      return owner
    })
    await accounts.passwordChanged(user)
    return user
  }
}

const passwordResets = new PasswordResetService()
export default passwordResets
