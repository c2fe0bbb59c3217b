import { fileURLToPath } from 'node:url'
import type { ApplicationService } from '@adonisjs/core/types'
import edge from 'edge.js'
import { PluginKernel } from '#hooks/plugin_kernel'
import { PluginBootError, type PluginEntry } from '#hooks/plugin_loader'

/**
 * Binds the plugin kernel and loads the plugins of config/plugins.ts when the
 * app starts (before the router is committed, so plugin routes are served).
 */
export default class PluginProvider {
  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(PluginKernel, async (resolver) => {
      const { middleware } = await import('#start/kernel')
      const { throttleNamed } = await import('#start/limiter')
      return new PluginKernel({
        logger: await resolver.make('logger'),
        appRoot: fileURLToPath(this.app.appRoot),
        router: await resolver.make('router'),
        routeMiddleware: (options) => {
          const access = options.roles?.length
            ? [middleware.auth(), middleware.role({ roles: options.roles })]
            : options.auth
              ? [middleware.auth()]
              : []
          return options.rateLimit ? [...access, throttleNamed(options.rateLimit)] : access
        },
        paymentWebhook: (providerId) => async (ctx) => {
          const { default: PaymentWebhooksController } = await import('#controllers/payment_webhooks_controller')
          return new PaymentWebhooksController().handle(ctx, providerId)
        },
        payoutAccounts: (await import('#services/payout_account_service')).default,
        deliverPaymentEvents: async (providerId, events) => {
          const { default: orders } = await import('#services/order_service')
          return orders.receive(providerId, events)
        },
        audit: async (entry) => {
          const { default: audit } = await import('#services/audit_service')
          await audit.record(entry)
        },
        mountViews: (diskName, directory) => edge.mount(diskName, directory),
      })
    })
  }

  async start() {
    await bootPlugins(this.app)
  }
}

export async function bootPlugins(app: ApplicationService) {
  const kernel = await app.container.make(PluginKernel)
  const entries = app.config.get<PluginEntry[]>('plugins.plugins', [])
  await kernel.boot(entries)
  checkSelections(app, kernel)
  return kernel
}

/**
 * The storage backend and the watermarkers are chosen by id in the settings
 * (STORAGE_BACKEND, WATERMARK_VISIBLE, WATERMARK_FORENSIC): any id a plugin
 * registered. One that no plugin registered stops the boot, naming the
 * setting and the ids there are.
 */
export function checkSelections(app: ApplicationService, kernel: PluginKernel) {
  const choices = [
    { setting: 'STORAGE_BACKEND', id: app.config.get<string>('storage.backend'), registry: kernel.storage },
    { setting: 'WATERMARK_VISIBLE', id: app.config.get<string>('playback.watermark.watermarker'), registry: kernel.watermarks },
    { setting: 'WATERMARK_FORENSIC', id: app.config.get<string>('media.forensic.watermarker'), registry: kernel.watermarks },
  ]
  for (const { setting, id, registry } of choices) {
    if (!id || registry.has(id)) continue
    const known = registry.all().map((item) => `"${item.id}"`)
    throw new PluginBootError(
      `${setting}="${id}" names no registered ${registry.kind}; the enabled plugins register ${known.join(', ') || 'none'} ` +
        `(a plugin's backend needs its plugin in config/plugins.ts or PLUGINS_EXTRA${setting === 'STORAGE_BACKEND' ? ', and s3 needs S3_BUCKET' : ''})`
    )
  }
}
