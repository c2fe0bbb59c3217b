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
