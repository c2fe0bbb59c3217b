import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'

export type SignatureCheck = 'valid' | 'expired' | 'invalid'

/**
 * Signs playback URLs: HMAC-SHA256 over (session, path, expiry), so a URL
 * works only for its own session, its own path and a few minutes. Checked in
 * constant time.
 */
export class UrlSigner {
  /** Imported once: an HMAC keyed with a raw Buffer imports the key on every call. */
  #key: KeyObject

  constructor(key: Buffer) {
    this.#key = createSecretKey(key)
  }

  signature(sessionId: string, path: string, expires: number) {
    return createHmac('sha256', this.#key).update(`${sessionId}\n${path}\n${expires}`).digest('base64url')
  }

  /** `/play/<session>/<path>?exp=<unix seconds>&sig=<signature>` */
  url(sessionId: string, path: string, ttlSeconds: number, now = Date.now()) {
    const expires = Math.floor(now / 1000) + ttlSeconds
    return `/play/${sessionId}/${path}?exp=${expires}&sig=${this.signature(sessionId, path, expires)}`
  }

  check(sessionId: string, path: string, exp: unknown, sig: unknown, now = Date.now()): SignatureCheck {
    if (typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) {
      return 'invalid'
    }
    const expected = Buffer.from(this.signature(sessionId, path, Number(exp)), 'base64url')
    const given = Buffer.from(sig, 'base64url')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid'
    // Expiry is checked after the signature: an attacker learns nothing from it.
    return Number(exp) * 1000 < now ? 'expired' : 'valid'
  }
}
