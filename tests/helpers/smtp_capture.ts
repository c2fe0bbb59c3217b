import { SMTPServer } from 'smtp-server'

export interface CapturedMail {
  from: string
  to: string[]
  raw: string
}

/**
 * A real SMTP server on loopback that keeps every message it receives, so
 * tests see exactly what the app sent over the wire.
 */
export class SmtpCapture {
  messages: CapturedMail[] = []
  #server?: SMTPServer

  async start(port: number, host = '127.0.0.1') {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = []
        stream.on('data', (chunk) => chunks.push(chunk))
        stream.on('end', () => {
          this.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          })
          callback()
        })
      },
    })
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject)
      this.#server!.listen(port, host, () => resolve())
    })
  }

  async stop() {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
  }

  clear() {
    this.messages = []
  }

  to(address: string) {
    return this.messages.filter((m) => m.to.includes(address))
  }

  /** A position in the mailbox: `waitFor` can ignore mail received before it. */
  mark() {
    return this.messages.length
  }

  async waitForCount(address: string, count: number, since = 0, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (this.messages.slice(since).filter((m) => m.to.includes(address)).length >= count) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`fewer than ${count} emails reached ${address} within ${timeoutMs} ms`)
  }

  async waitFor(address: string, since = 0, timeoutMs = 5000): Promise<CapturedMail> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const found = this.messages.slice(since).filter((m) => m.to.includes(address))
      if (found.length) return found[found.length - 1]
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`no email reached ${address} within ${timeoutMs} ms`)
  }
}

/** Decodes quoted-printable soft breaks and escapes enough to read links. */
export function decodeQuotedPrintable(raw: string) {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
}

export const smtp = new SmtpCapture()
