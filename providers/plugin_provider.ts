import { fileURLToPath } from 'node:url'
import type { ApplicationService } from '@adonisjs/core/types'
import edge from 'edge.js'
import { PluginKernel } from '#hooks/plugin_kernel'
import type { PluginEntry } from '#hooks/plugin_loader'

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
  return kernel
}
