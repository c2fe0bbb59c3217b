import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'

/**
 * A refused playback request: its status and a short code the player acts
 * on (`session_expired` → open a new session, `payment_required` → show the
 * buy button...). Always JSON, never cached, never a byte of media.
 */
export class PlaybackError extends Exception {
  declare code: string

  /** Headers the refusal needs, e.g. the `Content-Range` of a 416. */
  readonly headers: Record<string, string>

  constructor(code: string, status: number, message: string, headers: Record<string, string> = {}) {
    super(message, { code, status })
    this.headers = headers
  }

  async handle(error: this, { response }: HttpContext) {
    response.header('Cache-Control', 'no-store')
    response.removeHeader('Content-Length')
    response.removeHeader('Accept-Ranges')
    for (const [name, value] of Object.entries(error.headers)) response.header(name, value)
    response.status(error.status).json({ error: error.code, message: error.message })
  }
}
