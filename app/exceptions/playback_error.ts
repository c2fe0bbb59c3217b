import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'

/**
 * A refused playback request: its status and a short code the player acts
 * on (`session_expired` → open a new session, `payment_required` → show the
 * buy button...). Always JSON, never cached, never a byte of media.
 */
export class PlaybackError extends Exception {
  declare code: string

  constructor(code: string, status: number, message: string) {
    super(message, { code, status })
  }

  async handle(error: this, { response }: HttpContext) {
    response.header('Cache-Control', 'no-store')
    response.removeHeader('Content-Length')
    response.removeHeader('Accept-Ranges')
    response.status(error.status).json({ error: error.code, message: error.message })
  }
}
