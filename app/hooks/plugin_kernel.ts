import type { Logger } from '@adonisjs/core/logger'
import type { Router } from '@adonisjs/core/http'
import type { BaseCommand } from '@adonisjs/core/ace'
import type { SchemaTypes, Infer } from '@vinejs/vine/types'
import { HookBus } from './hook_bus.js'
import { ProviderRegistry } from './registry.js'
import { PluginSettings } from './plugin_settings.js'
import { loadPlugins, PluginBootError, type LoadedPlugin, type PluginEntry } from './plugin_loader.js'
import type { EntitlementSource, PaymentProvider, StorageBackend, Watermarker } from './contracts.js'
import type { PluginApi, PluginRouteHandler, PluginRouteOptions, PluginRouter } from './define_plugin.js'

type RouteMiddlewareFor = (options: PluginRouteOptions) => any[]

export interface PluginInfo {
  name: string
  version: string
  description?: string
  source: string
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
  readonly commands: Array<{ owner: string; command: typeof BaseCommand }> = []
  readonly plugins: PluginInfo[] = []
  readonly settings = new Map<string, PluginSettings<any>>()

  #loading?: Promise<void>

  constructor(
    private deps: {
      logger: Logger
      appRoot: string
      /** Absent where no HTTP routes can be served (plain ace commands). */
      router?: Router
      routeMiddleware?: RouteMiddlewareFor
    }
  ) {
    this.hooks = new HookBus(deps.logger)
  }

  /** Loads and registers the plugins; safe to call more than once. */
  boot(entries: PluginEntry[]): Promise<void> {
    this.#loading ??= this.#boot(entries)
    return this.#loading
  }

  async #boot(entries: PluginEntry[]) {
    const loaded = await loadPlugins(entries, this.deps.appRoot)
    for (const entry of loaded) {
      await this.#register(entry)
    }
  }

  async #register({ plugin, source, options }: LoadedPlugin) {
    const owner = plugin.name
    const api = this.#apiFor(owner, options)
    try {
      await plugin.register(api as PluginApi<any>)
    } catch (error) {
      throw new PluginBootError(`Plugin "${owner}" failed to register: ${(error as Error).message}`, { cause: error })
    }
    this.plugins.push({ name: owner, version: plugin.version, description: plugin.description, source })
    this.deps.logger.debug({ plugin: owner, version: plugin.version }, 'plugin registered')
  }

  #apiFor(owner: string, options: unknown): PluginApi<unknown> {
    const logger = this.deps.logger.child({ plugin: owner })
    return {
      options,
      payments: { register: (provider) => this.payments.register(provider, owner) },
      storage: { register: (backend) => this.storage.register(backend, owner) },
      watermarks: { register: (watermarker) => this.watermarks.register(watermarker, owner) },
      entitlements: { register: (source) => this.entitlements.register(source, owner) },
      hooks: {
        onAction: (name, fn) => this.hooks.onAction(name, fn, owner),
        addFilter: (name, fn, priority) => this.hooks.addFilter(name, fn, owner, priority),
      },
      router: this.#routerFor(owner),
      commands: { add: (command) => this.commands.push({ owner, command }) },
      settings: {
        define: <Schema extends SchemaTypes>(schema: Schema, defaults: Infer<Schema>) => {
          const settings = new PluginSettings(owner, schema, defaults)
          this.settings.set(owner, settings)
          return settings
        },
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

function normalizePath(path: string) {
  if (!path || path === '/') return ''
  return path.startsWith('/') ? path : `/${path}`
}
