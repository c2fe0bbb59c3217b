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
  options: {
    secretKey: env.get('STRIPE_SECRET_KEY')?.release() || undefined,
    webhookSecret: env.get('STRIPE_WEBHOOK_SECRET')?.release() || undefined,
    apiBase: env.get('STRIPE_API_BASE') || undefined,
    webhookToleranceSeconds: env.get('STRIPE_WEBHOOK_TOLERANCE_SECONDS', 300),
  },
})

// Wallets. Without an RPC URL and a quote signer key the plugin stays off.
configured.push({
  source: './plugins/x402',
  options: {
    rpcUrl: env.get('X402_RPC_URL') || undefined,
    publicRpcUrl: env.get('X402_PUBLIC_RPC_URL') || undefined,
    chainId: env.get('X402_CHAIN_ID', 31337),
    chainName: env.get('X402_CHAIN_NAME') || undefined,
    nativeSymbol: env.get('X402_NATIVE_SYMBOL') || undefined,
    quoteSignerKey: env.get('X402_QUOTE_SIGNER_KEY')?.release() || undefined,
    deployerKey: env.get('X402_DEPLOYER_KEY')?.release() || undefined,
    settlerKey: env.get('X402_SETTLER_KEY')?.release() || undefined,
    refundKey: env.get('X402_REFUND_KEY')?.release() || undefined,
    nativeRateUrl: env.get('X402_NATIVE_RATE_URL') || undefined,
    nativeRateCurrencies: env.get('X402_NATIVE_RATE_CURRENCIES') || undefined,
    nativeRatePollSeconds: env.get('X402_NATIVE_RATE_POLL_SECONDS'),
    nativeRateMaxAgeSeconds: env.get('X402_NATIVE_RATE_MAX_AGE_SECONDS'),
    ownerAddress: env.get('X402_OWNER_ADDRESS') || undefined,
    feeRecipient: env.get('X402_FEE_RECIPIENT') || undefined,
    contractAddress: env.get('X402_CONTRACT_ADDRESS') || undefined,
    tokenAddress: env.get('X402_TOKEN_ADDRESS') || undefined,
    tokenCurrency: env.get('X402_TOKEN_CURRENCY') || undefined,
    nativeRates: env.get('X402_NATIVE_RATES') || undefined,
    confirmations: env.get('X402_CONFIRMATIONS'),
    quoteTtlMinutes: env.get('X402_QUOTE_TTL_MINUTES'),
    blockRange: env.get('X402_BLOCK_RANGE'),
    pollIntervalMs: env.get('X402_POLL_INTERVAL_MS'),
    startBlock: env.get('X402_START_BLOCK'),
  },
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
