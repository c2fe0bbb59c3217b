import { BaseMail } from '@adonisjs/mail'
import type User from '#models/user'

export default class PasswordResetMail extends BaseMail {
  subject = 'Reset your Matinee password'

  constructor(
    private user: User,
    private resetUrl: string,
    private ttlMinutes: number
  ) {
    super()
  }

  prepare() {
    const data = { username: this.user.username, resetUrl: this.resetUrl, ttlMinutes: this.ttlMinutes }
    this.message.to(this.user.email).htmlView('emails/password_reset_html', data).textView('emails/password_reset_text', data)
  }
}
