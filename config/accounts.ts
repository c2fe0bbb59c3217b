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

  /**
   * Rate limits (per client IP, and per account identifier where there is one).
   */
  limits: {
    login: { requests: 5, per: '1 minute', blockFor: '5 minutes' },
    register: { requests: 5, per: '10 minutes' },
    passwordReset: { requests: 3, per: '15 minutes' },
  },
} as const

export default accountsConfig
