import type { Logger } from '@adonisjs/core/logger'
import type { Router } from '@adonisjs/core/http'
import type { BaseCommand } from '@adonisjs/core/ace'
import type { SchemaTypes, Infer } from '@vinejs/vine/types'
import { HookBus } from './hook_bus.js'
import { ProviderRegistry } from './registry.js'
import { PluginSettings, type SettingsFields } from './plugin_settings.js'
import { PluginStateStore } from './plugin_state.js'
import { checkPluginViews, checkedPluginView } from './plugin_views.js'
import { loadPlugins, PluginBootError, type LoadedPlugin, type PluginEntry } from './plugin_loader.js'
import type { Paywall } from './paywalls.js'
import type {
  BuyButtonInput,
  ClientCheckoutInput,
  EntitlementSource,
  PaymentProvider,
  PluginView,
  PluginHealth,
  StorageBackend,
  ProviderEvent,
  Watermarker,
} from './contracts.js'
import type {
  DeliveryResult,
  PayoutAccounts,
  PluginApi,
  PluginAuditEntry,
  PluginRouteHandler,
  PluginRouteOptions,
  PluginRouter,
} from './define_plugin.js'

type RouteMiddlewareFor = (options: PluginRouteOptions) => any[]

export interface PluginInfo {
  name: string
  version: string
  description?: string
  source: string
  /** The plugin's own health probe, when it registered one. */
  health?: () => PluginHealth | Promise<PluginHealth>
}

/**
 * The plugin kernel: loads the configured plugins once, hands each one its
 * `api`, and owns the hook bus and the provider registries the core uses.
 */
export class PluginKernel {
  readonly hooks: HookBus
  readonly payments = new ProviderRegistry<PaymentProvider>('payment provider')
  readonly storage = new ProviderRegistry<StorageBackend>('storage backend')
  readonly watermarks = new ProviderRegistry<Watermarker>('watermarker')
  readonly entitlements = new ProviderRegistry<EntitlementSource>('entitlement source')
  readonly paywalls = new ProviderRegistry<Paywall>('paywall')
  readonly commands: Array<{ owner: string; command: typeof BaseCommand }> = []
  readonly plugins: PluginInfo[] = []
  readonly settings = new Map<string, PluginSettings<any>>()
  /** The views each plugin mounted (`<plugin>::<file>`), by plugin. */
  readonly views = new Map<string, Set<string>>()

  #loading?: Promise<void>

  constructor(
    private deps: {
      logger: Logger
      appRoot: string
      /** Absent where no HTTP routes can be served (plain ace commands). */
      router?: Router
      routeMiddleware?: RouteMiddlewareFor
      /** The core's handler for a payment provider's webhook (mounted at /webhooks/<id>). */
      paymentWebhook?: (providerId: string) => PluginRouteHandler
      payoutAccounts?: PayoutAccounts
      /** The core's entry for verified payment events (the same as webhooks use). */
      deliverPaymentEvents?: (providerId: string, events: ProviderEvent[]) => Promise<DeliveryResult[]>
      /** The core's audit log (entries arrive with the plugin's name prefixed to the action). */
      audit?: (entry: PluginAuditEntry) => Promise<void>
      /** The template engine's disks: mounts a plugin's views folder under the plugin's name. */
      mountViews?: (diskName: string, directory: string) => void
    }
  ) {
    this.hooks = new HookBus(deps.logger)
  }

  /** Each plugin with what its health probe says now (null without a probe); a throwing probe is a failure. */
  async statuses(): Promise<Array<PluginInfo & { status: PluginHealth | null }>> {
    return Promise.all(
      this.plugins.map(async (plugin) => {
        try {
          return { ...plugin, status: plugin.health ? await plugin.health() : null }
        } catch (error) {
          return { ...plugin, status: { ok: false, message: `Health check failed: ${(error as Error).message}` } }
        }
      })
    )
  }

  /**
   * A provider's buy button as the core renders it: the provider's own view
   * (checked to be one its plugin mounted), else null for the core's button.
   */
  buyButtonView(provider: PaymentProvider, input: BuyButtonInput): Required<PluginView> | null {
    if (!provider.renderBuyButton) return null
    return this.#providerView(provider, provider.renderBuyButton(input), 'renderBuyButton')
  }

  /** A client_action checkout's panel on the order page (see `renderCheckout`). */
  checkoutView(provider: PaymentProvider, input: ClientCheckoutInput): Required<PluginView> | null {
    if (!provider.renderCheckout) return null
    return this.#providerView(provider, provider.renderCheckout(input), 'renderCheckout')
  }

  #providerView(provider: PaymentProvider, view: PluginView, what: string) {
    const owner = this.payments.ownerOf(provider.id) ?? provider.id
    return checkedPluginView(owner, this.views.get(owner) ?? new Set(), view, `${provider.id}.${what}`)
  }

  /** Loads and registers the plugins; safe to call more than once. */
  boot(entries: PluginEntry[]): Promise<void> {
    this.#loading ??= this.#boot(entries)
    return this.#loading
  }

  async #boot(entries: PluginEntry[]) {
    const loaded = await loadPlugins(entries, this.deps.appRoot)
    // Every plugin's own hooks first, so that any plugin may listen to them.
    for (const { plugin } of loaded) {
      for (const kind of ['action', 'filter'] as const) {
        for (const [name, doc] of Object.entries(plugin.hooks?.[kind === 'action' ? 'actions' : 'filters'] ?? {})) {
          try {
            this.hooks.declare(kind, name, doc, plugin.name)
          } catch (error) {
            throw new PluginBootError(`Plugin "${plugin.name}": ${(error as Error).message}`)
          }
        }
      }
    }
    for (const entry of loaded) {
      await this.#register(entry)
    }
  }

  async #register({ plugin, source, options, env }: LoadedPlugin) {
    const owner = plugin.name
    const info: PluginInfo = { name: owner, version: plugin.version, description: plugin.description, source }
    const api = this.#apiFor(owner, options, info, env)
    try {
      await plugin.register(api as PluginApi<any>)
    } catch (error) {
      throw new PluginBootError(`Plugin "${owner}" failed to register: ${(error as Error).message}`, { cause: error })
    }
    this.plugins.push(info)
    this.deps.logger.debug({ plugin: owner, version: plugin.version }, 'plugin registered')
  }

  #apiFor(owner: string, options: unknown, info: PluginInfo, env: Record<string, unknown> = {}): PluginApi<unknown> {
    const logger = this.deps.logger.child({ plugin: owner })
    return {
      options,
      env,
      payments: {
        register: (provider) => {
          this.payments.register(provider, owner)
          const handler = provider.handleWebhook ? this.deps.paymentWebhook?.(provider.id) : undefined
          if (handler) this.deps.router?.post(`/webhooks/${provider.id}`, handler as any)
        },
        payoutAccounts: this.deps.payoutAccounts ?? UNAVAILABLE_PAYOUT_ACCOUNTS,
        deliver: async (providerId, events) => {
          // A plugin speaks only for its own providers.
          if (this.payments.ownerOf(providerId) !== owner) {
            throw new Error(`${owner}: payment provider "${providerId}" is not registered by this plugin`)
          }
          if (!this.deps.deliverPaymentEvents) throw new Error('Payment events cannot be delivered here')
          return this.deps.deliverPaymentEvents(providerId, events)
        },
      },
      paywalls: { register: (paywall) => this.paywalls.register(paywall, owner) },
      storage: { register: (backend) => this.storage.register(backend, owner) },
      watermarks: { register: (watermarker) => this.watermarks.register(watermarker, owner) },
      entitlements: { register: (source) => this.entitlements.register(source, owner) },
      hooks: {
        onAction: (name: string, fn: any) => this.hooks.onAction(name, fn, owner),
        addFilter: (name: string, fn: any, priority?: number) => this.hooks.addFilter(name, fn, owner, priority),
        applyFilters: (name: string, value: any, context: any) => this.hooks.applyFilters(name, value, context),
        doAction: async (name: string, payload: unknown) => {
          // A plugin fires only the actions it declared; the core's are the core's to fire.
          if (this.hooks.declared.action.get(name)?.owner !== owner) {
            throw new Error(`plugin "${owner}" may fire only the action hooks it declares, not "${name}"`)
          }
          await this.hooks.doAction(name, payload)
        },
      } as PluginApi<unknown>['hooks'],
      router: this.#routerFor(owner),
      views: {
        mount: (folder) => {
          const { directory, views } = checkPluginViews(owner, folder)
          const mounted = this.views.get(owner) ?? new Set<string>()
          views.forEach((view) => mounted.add(view))
          this.views.set(owner, mounted)
          this.deps.mountViews?.(owner, directory)
        },
      },
      state: new PluginStateStore(owner),
      commands: { add: (command) => this.commands.push({ owner, command }) },
      settings: {
        define: <Schema extends SchemaTypes>(schema: Schema, defaults: Infer<Schema>, fields?: SettingsFields<Schema>) => {
          if (this.settings.has(owner)) throw new Error(`${owner}: settings are defined once per plugin`)
          const settings = new PluginSettings(owner, schema, defaults, fields)
          this.settings.set(owner, settings)
          return settings
        },
      },
      audit: {
        record: async (entry) => {
          if (typeof entry?.action !== 'string' || !/^[a-z0-9][a-z0-9_.-]*$/.test(entry.action)) {
            throw new Error(`${owner}: an audit action is lowercase letters, digits, "_", "." or "-"`)
          }
          if (!this.deps.audit) throw new Error('The audit log is not available here')
          await this.deps.audit({ ...entry, action: `${owner}.${entry.action}` })
        },
      },
      health: (probe) => {
        info.health = probe
      },
      logger,
    }
  }

  #routerFor(owner: string): PluginRouter {
    const add = (method: 'get' | 'post' | 'put' | 'patch' | 'delete') =>
      (path: string, handler: PluginRouteHandler, options: PluginRouteOptions = {}) => {
        const router = this.deps.router
        if (!router) return
        const route = router[method](`/plugins/${owner}${normalizePath(path)}`, handler as any)
        const middleware = this.deps.routeMiddleware?.(options) ?? []
        if (middleware.length) route.use(middleware)
      }
    return {
      get: add('get'),
      post: add('post'),
      put: add('put'),
      patch: add('patch'),
      delete: add('delete'),
      webhook: (path, handler) => {
        this.deps.router?.post(`/webhooks/${owner}${normalizePath(path)}`, handler as any)
      },
    }
  }
}

/** Where no database is wired (unit tests of the kernel). */
const UNAVAILABLE_PAYOUT_ACCOUNTS: PayoutAccounts = {
  get: async () => null,
  set: async () => {
    throw new Error('Payout accounts are not available here')
  },
  remove: async () => {},
}

function normalizePath(path: string) {
  if (!path || path === '/') return ''
  return path.startsWith('/') ? path : `/${path}`
}
