import { definePlugin, Env } from '@matinee/plugin-kit'
import { Wallet } from 'ethers'
import { x402Options, resolveOptions } from './options.js'
import { DEMO_CREATOR_WALLET, LOCAL_CHAIN_IDS } from './chain.js'
import { isDevelopmentAddress } from './development_keys.js'
import { X402Runtime } from './x402_runtime.js'
import { X402PaymentProvider } from './x402_payment_provider.js'
import { registerRoutes } from './routes.js'
import { x402Commands } from './commands.js'
import { X402Protocol } from './x402_protocol.js'

/**
 * Wallet payments: an X402-style splitter contract pays the creator and the
 * platform in one transaction; `node ace x402:watch` turns confirmed `Paid`
 * logs into completed orders; `node ace x402:deploy` puts the contract on a
 * chain. Without an RPC URL and a quote signer key the plugin registers
 * nothing and tells admins why.
 */
export default definePlugin({
  name: 'x402',
  version: '1.0.0',
  description: 'Crypto wallet payments through the X402 splitter contract',
  options: x402Options,
  /** Its environment (config/plugins.ts makes the options from it; .env.example documents it). */
  env: {
    X402_RPC_URL: Env.schema.string.optional({ format: 'url', tld: false }),
    X402_PUBLIC_RPC_URL: Env.schema.string.optional({ format: 'url', tld: false }),
    X402_CHAIN_ID: Env.schema.number.optional(),
    X402_CHAIN_NAME: Env.schema.string.optional(),
    X402_NATIVE_SYMBOL: Env.schema.string.optional(),
    X402_QUOTE_SIGNER_KEY: Env.schema.secret.optional(),
    X402_DEPLOYER_KEY: Env.schema.secret.optional(),
    X402_SETTLER_KEY: Env.schema.secret.optional(),
    X402_OWNER_ADDRESS: Env.schema.string.optional(),
    X402_FEE_RECIPIENT: Env.schema.string.optional(),
    X402_CONTRACT_ADDRESS: Env.schema.string.optional(),
    X402_TOKEN_ADDRESS: Env.schema.string.optional(),
    X402_TOKEN_CURRENCY: Env.schema.string.optional(),
    X402_NATIVE_RATES: Env.schema.string.optional(),
    X402_CONFIRMATIONS: Env.schema.number.optional(),
    X402_QUOTE_TTL_MINUTES: Env.schema.number.optional(),
    X402_BLOCK_RANGE: Env.schema.number.optional(),
    X402_POLL_INTERVAL_MS: Env.schema.number.optional(),
    X402_START_BLOCK: Env.schema.number.optional(),
    X402_REFUND_KEY: Env.schema.secret.optional(),
    X402_NATIVE_RATE_URL: Env.schema.string.optional({ format: 'url', tld: false }),
    X402_NATIVE_RATE_CURRENCIES: Env.schema.string.optional(),
    X402_NATIVE_RATE_POLL_SECONDS: Env.schema.number.optional(),
    X402_NATIVE_RATE_MAX_AGE_SECONDS: Env.schema.number.optional(),
  },
  hooks: {
    filters: {
      'crypto:rate':
        'The price of one whole token in a currency, as a decimal string ("3120.55"), used to quote crypto payments; null means the token cannot be used for that currency. Context: { token, symbol, currency, chainId }.',
    },
  },
  register(api) {
    const config = resolveOptions(api.options)
    if (!config.rpcUrl || !config.quoteSignerKey) {
      const missing = [!config.rpcUrl && 'X402_RPC_URL', !config.quoteSignerKey && 'X402_QUOTE_SIGNER_KEY'].filter(Boolean)
      api.logger.info('x402 is off: not configured')
      api.health(() => ({ ok: false, message: `Off: set ${missing.join(' and ')} to accept wallet payments.` }))
      return
    }
    const runtime = new X402Runtime({ ...config, rpcUrl: config.rpcUrl }, api.state)
    const provider = new X402PaymentProvider(runtime, api, config.quoteSignerKey)
    // Quotes signed with a key everybody has could be signed by anybody: no
    // payments then. The commands stay, so x402:deploy can say what to fix.
    if (!LOCAL_CHAIN_IDS.has(config.chainId) && isDevelopmentAddress(new Wallet(config.quoteSignerKey).address)) {
      api.logger.error(`x402 is off: X402_QUOTE_SIGNER_KEY is a public development key, refused on chain ${config.chainId}`)
      api.health(() => ({
        ok: false,
        message: `Off: X402_QUOTE_SIGNER_KEY is a public development key (anyone could sign quotes); chain ${config.chainId} is not a local chain. Generate a key of your own.`,
      }))
      for (const command of x402Commands(api, runtime, provider)) api.commands.add(command)
      return
    }
    api.views.mount(new URL('./views/', import.meta.url))
    api.payments.register(provider)
    api.health(() => provider.health())
    registerRoutes(api, runtime, provider)
    // HTTP 402 for the JSON API's session endpoint (x402 v2), settled by this server through the splitter.
    api.paywalls.register(new X402Protocol(runtime, provider, api, config.settlerKey ?? config.deployerKey ?? null))
    for (const command of x402Commands(api, runtime, provider)) api.commands.add(command)
    // make dev: the demo creator is paid on the local chain (Hardhat's public account #3).
    api.hooks.onAction('demo:seeded', async ({ users }) => {
      const creator = users.find((user) => user.role === 'creator')
      if (!creator || !LOCAL_CHAIN_IDS.has(config.chainId)) return
      if (await api.payments.payoutAccounts.get(provider.id, creator.id)) return
      await api.payments.payoutAccounts.set(provider.id, creator.id, { accountRef: DEMO_CREATOR_WALLET, ready: true })
    })
    api.hooks.addFilter('nav:items', (items, { role }) =>
      role === 'creator' || role === 'admin' ? [...items, { label: 'Crypto payouts', href: '/plugins/x402/wallet' }] : items
    )
  },
})
