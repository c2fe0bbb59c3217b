import { randomBytes } from 'node:crypto'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Creates the first admin (or promotes an existing account by email).
 * Without --password a strong one is generated and printed once.
 */
export default class MakeAdmin extends BaseCommand {
  static commandName = 'make:admin'
  static description = 'Create an admin account, or make an existing account (by email) admin'
  static options: CommandOptions = { startApp: true }

  @flags.string({ description: 'Email of the admin', required: true })
  declare email: string

  @flags.string({ description: 'Username (default: the part of the email before @)' })
  declare username?: string

  @flags.string({ description: 'Password (default: generated and printed)' })
  declare password?: string

  async run() {
    const { default: vine } = await import('@vinejs/vine')
    const { default: accounts } = await import('#services/account_service')
    const { default: accountsConfig } = await import('#config/accounts')
    const { strongPassword } = await import('#validators/rules/strong_password')

    const generated = !this.password
    const password = this.password ?? randomBytes(12).toString('base64url')
    const fallbackUsername = this.email.split('@')[0].replace(/[^A-Za-z0-9_]/g, '_').slice(0, 30)
    const input = { username: this.username ?? fallbackUsername, email: this.email, password }

    const validator = vine.create({
      email: vine.string().trim().email().maxLength(254),
      username: vine.string().trim().minLength(3).maxLength(30).regex(/^[A-Za-z0-9_]+$/),
      password: vine
        .string()
        .minLength(accountsConfig.password.minLength)
        .maxLength(accountsConfig.password.maxLength)
        .use(strongPassword()),
    })
    try {
      await validator.validate(input)
    } catch (error: any) {
      for (const message of error.messages ?? [{ message: error.message }]) {
        this.logger.error(`${message.field ?? 'input'}: ${message.message}`)
      }
      this.exitCode = 1
      return
    }

    const { user, created } = await accounts.ensureAdmin(input)
    this.logger.success(`${created ? 'Created' : 'Promoted'} admin ${user.username} <${user.email}>`)
    if (generated) this.logger.info(`password: ${password}  (shown once; change it after logging in)`)
  }
}
