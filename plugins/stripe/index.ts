import vine from '@vinejs/vine'
import Stripe from 'stripe'
import { definePlugin, Env } from '@matinee/plugin-kit'
import { StripePaymentProvider } from './stripe_payment_provider.js'
import { registerConnectRoutes } from './connect.js'

/** The currencies Matinee offers that Stripe charges in. */
const DEFAULT_CURRENCIES = ['USD', 'EUR', 'GBP', 'IDR', 'JPY', 'INR', 'BRL', 'CAD', 'AUD', 'CHF']

/**
 * Card payments through Stripe Checkout, monthly memberships through Stripe
 * Billing (Checkout in subscription mode, invoice and subscription webhooks),
 * refunds through the Stripe API and creator payouts through Stripe Connect. Without both keys the plugin
 * registers nothing (no buy button) and tells admins why.
 */
export default definePlugin({
  name: 'stripe',
  version: '1.0.0',
  description: 'Card payments and monthly memberships through Stripe, with Connect payouts',
  /** Its environment (config/plugins.ts makes the options from it; .env.example documents it). */
  env: {
    STRIPE_SECRET_KEY: Env.schema.secret.optional(),
    STRIPE_WEBHOOK_SECRET: Env.schema.secret.optional(),
    STRIPE_API_BASE: Env.schema.string.optional({ format: 'url', tld: false }),
    STRIPE_WEBHOOK_TOLERANCE_SECONDS: Env.schema.number.optional(),
  },
  options: vine.object({
    secretKey: vine.string().trim().optional(),
    webhookSecret: vine.string().trim().optional(),
    /** Only for a Stripe-compatible stand-in (tests): http://127.0.0.1:12111 */
    apiBase: vine.string().url({ require_tld: false, protocols: ['http', 'https'] }).optional(),
    webhookToleranceSeconds: vine.number().withoutDecimals().min(1).max(3600).optional(),
    currencies: vine.array(vine.string().fixedLength(3).toUpperCase()).minLength(1).optional(),
  }),
  register(api) {
    const { secretKey, webhookSecret, apiBase } = api.options
    if (!secretKey || !webhookSecret) {
      const missing = [!secretKey && 'STRIPE_SECRET_KEY', !webhookSecret && 'STRIPE_WEBHOOK_SECRET'].filter(Boolean)
      api.logger.info('Stripe is off: no keys')
      api.health(() => ({ ok: false, message: `Off: no keys. Set ${missing.join(' and ')} to accept cards.` }))
      return
    }
    const endpoint = apiBase ? new URL(apiBase) : null
    const stripe = new Stripe(secretKey, {
      ...(endpoint
        ? {
            host: endpoint.hostname,
            port: Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80)),
            protocol: endpoint.protocol.replace(':', '') as 'http' | 'https',
          }
        : {}),
      maxNetworkRetries: 2,
      timeout: 20_000,
      appInfo: { name: 'Matinee', version: '1.0.0' },
    })
    const provider = new StripePaymentProvider(
      stripe,
      {
        webhookSecret,
        webhookToleranceSeconds: api.options.webhookToleranceSeconds ?? 300,
        currencies: api.options.currencies ?? DEFAULT_CURRENCIES,
      },
      api.payments.payoutAccounts
    )
    api.views.mount(new URL('./views/', import.meta.url))
    api.payments.register(provider)
    api.health(() => provider.health())
    registerConnectRoutes(api, stripe, provider.id)
    api.hooks.addFilter('nav:items', (items, { role }) =>
      role === 'creator' || role === 'admin' ? [...items, { label: 'Card payouts', href: '/plugins/stripe/connect' }] : items
    )
  },
})
