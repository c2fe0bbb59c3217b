import type { HttpContext } from '@adonisjs/core/http'
import { errors as limiterErrors } from '@adonisjs/limiter'
import type { LimiterResponse } from '@adonisjs/limiter'

/**
 * A named rate limit was exceeded: 429 with Retry-After. Browsers get the
 * "Too many attempts" page (the exception handler renders it for every
 * limiter error); JSON clients such as the player get the shape of the app's
 * other JSON refusals, `{ error, message, retryAfter }`.
 */
export class RateLimitExceeded extends limiterErrors.E_TOO_MANY_REQUESTS {
  constructor(
    readonly limit: string,
    response: LimiterResponse,
    /** What there were too many of ("checkouts"), for the sentence and the page. */
    readonly what: string
  ) {
    super(response)
    this.setMessage(`Too many ${what}. Try again in ${describeWait(response.availableIn)}.`)
  }

  async handle(error: this, ctx: HttpContext) {
    const headers = error.getDefaultHeaders()
    Object.entries(headers).forEach(([name, value]) => ctx.response.header(name, value))
    ctx.response.status(429)
    if (ctx.request.accepts(['html', 'json']) === 'json') {
      return ctx.response.json({ error: 'too_many_requests', limit: error.limit, message: error.message, retryAfter: error.response.availableIn })
    }
    return ctx.response.send(error.message)
  }
}

function describeWait(seconds: number) {
  if (seconds <= 90) return `${Math.max(1, seconds)} seconds`
  const minutes = Math.ceil(seconds / 60)
  return minutes <= 90 ? `${minutes} minutes` : `${Math.ceil(minutes / 60)} hours`
}

/**
 * The wait as a person reads it on the 429 page: 557 s → "about 9 minutes",
 * 40 s → "less than a minute", 7,200 s → "about 2 hours"; with the clock
 * time it ends at (`at`, "14:32 UTC").
 */
export function describeWaitForPeople(seconds: number, now = new Date()) {
  const minutes = Math.round(seconds / 60)
  const hours = Math.round(seconds / 3600)
  const wait =
    seconds < 60
      ? 'less than a minute'
      : minutes < 90
        ? `about ${minutes} minute${minutes === 1 ? '' : 's'}`
        : `about ${hours} hour${hours === 1 ? '' : 's'}`
  const at = new Date(now.getTime() + seconds * 1000).toISOString().slice(11, 16)
  return { wait, at: `${at} UTC` }
}
