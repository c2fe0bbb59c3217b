import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/core/http'
import proxyAddr from 'proxy-addr'

/**
 * Absolute base URL of this instance (links in emails, webhooks).
 */
export const appUrl = env.get('APP_URL')

/**
 * The load balancers and reverse proxies whose X-Forwarded-For this node
 * believes (addresses or CIDRs, comma separated; proxy-addr also knows
 * `loopback`, `linklocal` and `uniquelocal`). Empty trusts nobody: the
 * client's address is then the TCP peer's, so a forged X-Forwarded-For can
 * neither dodge nor aim the per-address rate limits.
 */
export const trustedProxies = (env.get('TRUSTED_PROXIES') ?? '')
  .split(',')
  .map((entry) => entry.trim())
  .filter(Boolean)

/** Compiled once, as AdonisJS compiles a string; a bad entry stops the boot naming the variable. */
export function compileTrustedProxies(list: string[]) {
  try {
    return proxyAddr.compile(list)
  } catch (error) {
    throw new Error(`TRUSTED_PROXIES: ${(error as Error).message} (expected addresses or CIDRs, comma separated)`)
  }
}

export const http = defineConfig({
  generateRequestId: true,
  allowMethodSpoofing: true,
  useAsyncLocalStorage: true,
  trustProxy: compileTrustedProxies(trustedProxies),
  cookie: {
    domain: '',
    path: '/',
    maxAge: '2h',
    httpOnly: true,
    secure: app.inProduction,
    sameSite: 'lax',
  },
})
