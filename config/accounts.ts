import env from '#start/env'

/**
 * Account rules that an instance owner may want to change.
 */
const accountsConfig = {
  /**
   * How a viewer becomes a creator: at once ('instant'), or after an admin
   * approves the application ('admin').
   */
  creatorApproval: env.get('CREATOR_APPROVAL'),

  /**
   * Password reset links expire after this many minutes and work once.
   */
  passwordResetTtlMinutes: env.get('PASSWORD_RESET_TTL_MINUTES', 60),

  password: { minLength: 10, maxLength: 128 },
  username: { minLength: 3, maxLength: 30 },

  // Rate limits (logins, registrations, resets...) are in config/limiter.ts.
} as const

export default accountsConfig
