import { errors as authErrors } from '@adonisjs/auth'
import User from '#models/user'
import rateLimits from '#services/rate_limit_service'

/**
 * Failed logins are counted twice: per account, from any address (one
 * password guessed from a botnet), and per client address, on any accounts
 * (password spraying: a few common passwords tried on many usernames). Once
 * either count is used up, every login through it is refused with 429 until
 * the window ends, a correct password included, so the answer tells an
 * attacker nothing. Successful logins cost nothing.
 */
export class LoginThrottle {
  /** The account an identifier names (email or username, any case), else the identifier itself. */
  async #accountKey(login: string) {
    const user = await User.findForAuth([], login)
    return user ? `user_${user.id}` : `login_${login.trim().toLowerCase()}`
  }

  /**
   * Runs `verify` unless a limit is used up (RateLimitExceeded, 429); a
   * failed verification counts against both limits and is rethrown.
   */
  async attempt<T>(input: { login: string; address: string }, verify: () => Promise<T>): Promise<T> {
    const account = await this.#accountKey(input.login)
    const address = `ip_${input.address}`
    await rateLimits.ensureAllowed('loginAddress', address)
    await rateLimits.ensureAllowed('loginAccount', account)
    try {
      const result = await verify()
      // The person knows the password: earlier typos no longer count against the account.
      await rateLimits.forget('loginAccount', account)
      return result
    } catch (error) {
      if (!(error instanceof authErrors.E_INVALID_CREDENTIALS)) throw error
      await Promise.all([rateLimits.count('loginAccount', account), rateLimits.count('loginAddress', address)])
      throw error
    }
  }
}

const loginThrottle = new LoginThrottle()
export default loginThrottle
