import limiter from '@adonisjs/limiter/services/main'
import { errors as limiterErrors, type Limiter } from '@adonisjs/limiter'
import { rateLimits, type RateLimitName } from '#config/limiter'
import { RateLimitExceeded } from '#exceptions/rate_limit_exceeded'

/** What the 429 sentence says there were too many of. */
const WHAT: Record<RateLimitName, string> = {
  loginAccount: 'failed logins on this account',
  loginAddress: 'failed logins from your address',
  register: 'accounts created from your address',
  registerForm: 'registration attempts from your address',
  passwordReset: 'password reset attempts',
  checkout: 'checkouts',
  cryptoQuote: 'payment quotes',
  playbackOpen: 'videos opened',
  uploadCreate: 'uploads started',
  watermarkRender: 'watermarked segments asked for by this player',
}

/**
 * The named limits of config/limiter.ts over the shared limiter store (Redis:
 * every web node counts together). Keys are namespaced by the limit's name.
 */
export class RateLimitService {
  #limiters = new Map<RateLimitName, Limiter>()

  limiter(name: RateLimitName) {
    let existing = this.#limiters.get(name)
    if (!existing) {
      const { requests, seconds } = rateLimits[name]
      // An exhausted key stays blocked for the whole window, not only until
      // the first hit of the window expires.
      existing = limiter.use({ requests, duration: seconds, blockDuration: seconds })
      this.#limiters.set(name, existing)
    }
    return existing
  }

  #key(name: RateLimitName, key: string | number) {
    return `${rateLimits[name].name}:${key}`
  }

  /** Counts one request; over the limit it throws RateLimitExceeded (429). */
  async consume(name: RateLimitName, key: string | number) {
    try {
      await this.limiter(name).consume(this.#key(name, key))
    } catch (error) {
      if (error instanceof limiterErrors.E_TOO_MANY_REQUESTS && !(error instanceof RateLimitExceeded)) {
        throw new RateLimitExceeded(rateLimits[name].name, error.response, WHAT[name])
      }
      throw error
    }
  }

  /** Throws RateLimitExceeded when the key has used up its allowance, without counting. */
  async ensureAllowed(name: RateLimitName, key: string | number) {
    const response = await this.limiter(name).get(this.#key(name, key))
    if (response && response.remaining <= 0) {
      throw new RateLimitExceeded(rateLimits[name].name, response, WHAT[name])
    }
  }

  /** Counts one (failed or successful) attempt without refusing this one. */
  async count(name: RateLimitName, key: string | number) {
    await this.limiter(name).increment(this.#key(name, key))
  }

  async forget(name: RateLimitName, key: string | number) {
    await this.limiter(name).delete(this.#key(name, key))
  }
}

const rateLimitService = new RateLimitService()
export default rateLimitService
