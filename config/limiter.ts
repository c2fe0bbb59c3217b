import env from '#start/env'
import { defineConfig, stores } from '@adonisjs/limiter'
import type { InferLimiters } from '@adonisjs/limiter/types'

const limiterConfig = defineConfig({
  default: env.get('LIMITER_STORE'),
  stores: {
    redis: stores.redis({ connectionName: 'main', keyPrefix: 'limiter' }),
    memory: stores.memory({}),
  },
})

export default limiterConfig

declare module '@adonisjs/limiter/types' {
  export interface LimitersList extends InferLimiters<typeof limiterConfig> {}
}

export interface RateLimit {
  /** The name keys are stored under and the README lists. */
  name: string
  requests: number
  /** Seconds the allowance covers; an exhausted key waits this long too. */
  seconds: number
  /** The environment variable that sets it (`<requests>/<duration>`). */
  variable: string
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 }

/**
 * `<requests>/<number><s|m|h>`, e.g. `20/15m`. A malformed value throws
 * naming the variable (at boot, so a typo never means "no limit").
 */
export function parseRateLimit(name: string, variable: string, value: string): RateLimit {
  const match = /^(\d+)\s*\/\s*(\d+)\s*([smh])$/.exec(value.trim())
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new Error(`${variable}: "${value}" is not a rate limit; write <requests>/<duration>, e.g. 20/15m (s, m or h)`)
  }
  return { name, requests: Number(match[1]), seconds: Number(match[2]) * UNITS[match[3]], variable }
}

/** Reads `RATE_LIMIT_<NAME>`, else the default. */
function rateLimit(name: string, fallback: string): RateLimit {
  const variable = `RATE_LIMIT_${name.toUpperCase()}`
  return parseRateLimit(name, variable, (env.get(variable as any) as string | undefined)?.trim() || fallback)
}

/**
 * Every named rate limit (README → Accounts and limits). Over one, a request
 * gets 429 with Retry-After and a sentence saying when to try again.
 */
export const rateLimits = {
  /** Failed logins on one account, from any address (guessing one password). */
  loginAccount: rateLimit('login_account', '10/15m'),
  /** Failed logins from one address, on any accounts (password spraying). */
  loginAddress: rateLimit('login_address', '20/15m'),
  /** Accounts created from one address (failed form submissions do not count). */
  register: rateLimit('register', '5/1h'),
  /** Registration form submissions from one address, failed ones too (probing which emails exist). */
  registerForm: rateLimit('register_form', '30/10m'),
  /** Password reset requests and reset form submissions from one address. */
  passwordReset: rateLimit('password_reset', '3/15m'),
  /** Checkouts started by one user (each one asks a payment provider for a session). */
  checkout: rateLimit('checkout', '20/10m'),
  /** Signed wallet payment quotes asked by one user (the x402 plugin). */
  cryptoQuote: rateLimit('crypto_quote', '30/10m'),
  /** Playback sessions opened by one user (or one address, logged out). */
  playbackOpen: rateLimit('playback_open', '60/10m'),
  /** Resumable uploads created by one creator. */
  uploadCreate: rateLimit('upload_create', '20/1h'),
  /**
   * Visible watermark renders one playback session asks for (segments not
   * rendered yet). A realtime player needs one per 4 s segment (15 a minute);
   * the rest is room for starting and seeking.
   */
  watermarkRender: rateLimit('watermark_render', '30/1m'),
} as const

export type RateLimitName = keyof typeof rateLimits
