import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Session } from '@adonisjs/session'
import env from '#start/env'
import type User from '#models/user'

const SESSION_KEY = 'passwordFingerprint'

/**
 * A web session belongs to the password it was opened with. Each login
 * stores a fingerprint of the user's password hash (an HMAC keyed from
 * APP_KEY, so the session store never holds anything hash-derived that could
 * be checked offline); every request compares it with the current hash. A
 * password change or reset writes a new hash (argon2 salts it, so even the
 * same password gives a new one), which ends every other session of that
 * user on its next request, on every web node, whatever the session store —
 * a "sessions valid after the last password change" rule with nothing
 * extra to store or to lose. The browser that changed the password is
 * handed the new fingerprint and stays logged in.
 */
export class WebSessions {
  #key = createHmac('sha256', env.get('APP_KEY').release()).update('matinee:web-session-password').digest()

  #fingerprint(user: User) {
    return createHmac('sha256', this.#key).update(user.password).digest()
  }

  /** After a login, or in the browser that changed the password. */
  remember(session: Session, user: User) {
    session.put(SESSION_KEY, this.#fingerprint(user).toString('base64url'))
  }

  /**
   * False when the password changed since this session logged in. A session
   * opened before fingerprints existed adopts the current one.
   */
  isCurrent(session: Session, user: User) {
    const stored = session.get(SESSION_KEY)
    if (typeof stored !== 'string') {
      this.remember(session, user)
      return true
    }
    const expected = this.#fingerprint(user)
    const given = Buffer.from(stored, 'base64url')
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}

const webSessions = new WebSessions()
export default webSessions
