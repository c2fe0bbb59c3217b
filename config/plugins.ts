import env from '#start/env'
import app from '@adonisjs/core/services/app'
import type { PluginEntry } from '#hooks/plugin_loader'

/**
 * The enabled plugins, in load order, with their options. A source is a
 * folder of this project ("./plugins/<name>") or an installed npm package.
 * Options are validated against each plugin's schema when the app boots.
 *
 * PLUGINS_EXTRA (comma separated sources) adds plugins without editing this
 * file, with no options.
 */
const configured: PluginEntry[] = [
  {
    source: './plugins/storage-local',
    options: { root: app.makePath(env.get('STORAGE_LOCAL_ROOT')) },
  },
  // The visible watermark of playback sessions (config/playback.ts picks it).
  { source: './plugins/watermark-text', options: {} },
  // The forensic A/B mark of videos in forensic or both mode (config/media.ts picks it).
  { source: './plugins/watermark-forensic', options: {} },
]

// Cards. Without both keys the plugin stays off and says why on /admin/plugins.
configured.push({
  source: './plugins/stripe',
  // From the variables the plugin declares (plugins/stripe/index.ts), validated at boot.
  options: (env) => ({
    secretKey: env.STRIPE_SECRET_KEY?.release() || undefined,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET?.release() || undefined,
    apiBase: env.STRIPE_API_BASE || undefined,
    webhookToleranceSeconds: env.STRIPE_WEBHOOK_TOLERANCE_SECONDS ?? 300,
  }),
})

// Wallets. Without an RPC URL and a quote signer key the plugin stays off.
configured.push({
  source: './plugins/x402',
  // From the variables the plugin declares (plugins/x402/index.ts), validated at boot.
  options: (env) => ({
    rpcUrl: env.X402_RPC_URL || undefined,
    publicRpcUrl: env.X402_PUBLIC_RPC_URL || undefined,
    chainId: env.X402_CHAIN_ID ?? 31337,
    chainName: env.X402_CHAIN_NAME || undefined,
    nativeSymbol: env.X402_NATIVE_SYMBOL || undefined,
    quoteSignerKey: env.X402_QUOTE_SIGNER_KEY?.release() || undefined,
    deployerKey: env.X402_DEPLOYER_KEY?.release() || undefined,
    settlerKey: env.X402_SETTLER_KEY?.release() || undefined,
    refundKey: env.X402_REFUND_KEY?.release() || undefined,
    nativeRateUrl: env.X402_NATIVE_RATE_URL || undefined,
    nativeRateCurrencies: env.X402_NATIVE_RATE_CURRENCIES || undefined,
    nativeRatePollSeconds: env.X402_NATIVE_RATE_POLL_SECONDS,
    nativeRateMaxAgeSeconds: env.X402_NATIVE_RATE_MAX_AGE_SECONDS,
    ownerAddress: env.X402_OWNER_ADDRESS || undefined,
    feeRecipient: env.X402_FEE_RECIPIENT || undefined,
    contractAddress: env.X402_CONTRACT_ADDRESS || undefined,
    tokenAddress: env.X402_TOKEN_ADDRESS || undefined,
    tokenCurrency: env.X402_TOKEN_CURRENCY || undefined,
    nativeRates: env.X402_NATIVE_RATES || undefined,
    confirmations: env.X402_CONFIRMATIONS,
    quoteTtlMinutes: env.X402_QUOTE_TTL_MINUTES,
    blockRange: env.X402_BLOCK_RANGE,
    pollIntervalMs: env.X402_POLL_INTERVAL_MS,
    startBlock: env.X402_START_BLOCK,
  }),
})

// Manual bank transfers: an npm package (the example third-party plugin in examples/bank-transfer).
if (env.get('BANK_TRANSFER_ENABLED', false)) {
  configured.push({
    source: 'matinee-plugin-bank-transfer',
    options: { currencies: ['EUR', 'USD', 'GBP', 'CHF'], daysToPay: 7 },
  })
}

if (env.get('S3_BUCKET')) {
  configured.push({
    source: './plugins/storage-s3',
    options: {
      bucket: env.get('S3_BUCKET'),
      region: env.get('S3_REGION', 'us-east-1'),
      endpoint: env.get('S3_ENDPOINT') || undefined,
      accessKeyId: env.get('S3_ACCESS_KEY_ID'),
      secretAccessKey: env.get('S3_SECRET_ACCESS_KEY')?.release(),
      forcePathStyle: env.get('S3_FORCE_PATH_STYLE', true),
      uploadBucket: env.get('S3_UPLOAD_BUCKET') || undefined,
      uploadPrefix: env.get('S3_UPLOAD_PREFIX') || undefined,
    },
  })
}

const extra: PluginEntry[] = (env.get('PLUGINS_EXTRA') ?? '')
  .split(',')
  .map((source) => source.trim())
  .filter(Boolean)
  .map((source) => ({ source }))

const pluginsConfig = { plugins: [...configured, ...extra] }

export default pluginsConfig
