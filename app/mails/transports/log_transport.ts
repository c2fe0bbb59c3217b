import { MailResponse } from '@adonisjs/mail'
import type { MailTransportContract, NodeMailerMessage, Recipient } from '@adonisjs/mail/types'

/**
 * The development mailer (MAIL_MAILER=log): sends nothing and prints each
 * mail's recipient, subject and text version to the console of the process
 * that sent it, so a password reset link tried from `make dev` can be opened
 * from the terminal without a mail server. Never use it in production: the
 * links in those mails log a user in.
 */
export class LogTransport implements MailTransportContract {
  constructor(private write: (text: string) => void = (text) => process.stdout.write(text)) {}

  async send(message: NodeMailerMessage) {
    const to = (message.to ?? []).map(addressOf).join(', ')
    const text = typeof message.text === 'string' ? message.text : '(no text version)'
    const rule = '-'.repeat(72)
    this.write(`\n[mail] not sent (MAIL_MAILER=log) — to ${to}: ${message.subject ?? ''}\n${rule}\n${text.trim()}\n${rule}\n`)
    const messageId = `log-${Date.now()}-${Math.random().toString(36).slice(2)}`
    return new MailResponse(messageId, { from: message.from ? addressOf(message.from) : false, to: to ? to.split(', ') : [] }, { printed: true })
  }
}

function addressOf(recipient: Recipient) {
  return typeof recipient === 'string' ? recipient : recipient.address
}
