import { fileURLToPath } from 'node:url'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import testUtils from '@adonisjs/core/services/test_utils'
import edge from 'edge.js'
import type { BaseCommand } from '@adonisjs/core/ace'
import type { HttpContext } from '@adonisjs/core/http'
import { PluginKernel } from '../plugin_kernel.js'
import type { PluginSettings } from '../plugin_settings.js'
import { PluginStateStore } from '../plugin_state.js'
import type { PluginHealth, ProviderEvent } from '../contracts.js'
import type { DeliveryResult, PluginRouteHandler, PluginRouteOptions, PluginState } from '../define_plugin.js'

export interface RecordedRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** The full path, as the app would mount it (/plugins/<name>/..., /webhooks/<name>/...). */
  path: string
  options: PluginRouteOptions
  handler: PluginRouteHandler
}

export interface RouteResponse {
  status: number
  /** What the handler sent (a string for HTML, an object for JSON). */
  body: unknown
  headers: Record<string, unknown>
}

/** One plugin, registered on its own with the real plugin API (see `bootPlugin`). */
export interface PluginUnderTest {
  name: string
  /** Runs action hooks and filters: this plugin's listeners only. */
  hooks: Pick<PluginKernel['hooks'], 'doAction' | 'applyFilters'>
  payments: PluginKernel['payments']
  storage: PluginKernel['storage']
  watermarks: PluginKernel['watermarks']
  entitlements: PluginKernel['entitlements']
  /** The settings it defined (stored in the test database), if any. */
  settings: PluginSettings<any> | undefined
  /** Its `api.state` records (in the test database). */
  state: PluginState
  routes: RecordedRoute[]
  commands: Array<typeof BaseCommand>
  /** What its health probe says now (null without one). */
  health(): Promise<PluginHealth | null>
  /**
   * Calls the handler of one of its routes with a real HttpContext and
   * returns the response. No middleware runs: `auth`, `roles` and CSRF are
   * the app's, so check a route's `options` instead (or test it in the app).
   */
  request(
    method: RecordedRoute['method'],
    path: string,
    input?: { body?: Record<string, unknown>; query?: Record<string, unknown> }
  ): Promise<RouteResponse>
}

/**
 * Loads a plugin package the way the app does (its options validated by the
 * loader; a bad option throws the same PluginBootError) and registers it with
 * the real plugin API, apart from the plugins the app runs: its hooks,
 * providers, settings and state are the real ones (settings and state in the
 * test database). Its routes are recorded rather than mounted, since the
 * app's router is sealed once the app has started.
 *
 * `api.payments.deliver` reaches the core's orders only in the app; here it
 * calls `harness.deliver` when given (to see what the plugin hands over),
 * and throws otherwise.
 *
 * ```ts
 * const plugin = await bootPlugin(new URL('..', import.meta.url), { some: 'option' })
 * ```
 */
export async function bootPlugin(
  folder: string | URL,
  options: Record<string, unknown> = {},
  harness: { deliver?: (providerId: string, events: ProviderEvent[]) => Promise<DeliveryResult[]> } = {}
): Promise<PluginUnderTest> {
  const routes: RecordedRoute[] = []
  const record = (method: RecordedRoute['method']) => (path: string, handler: PluginRouteHandler) => {
    routes.push({ method, path, handler, options: {} })
    return { use() {} }
  }
  const kernel = new PluginKernel({
    logger,
    appRoot: fileURLToPath(app.appRoot),
    router: { get: record('GET'), post: record('POST'), put: record('PUT'), patch: record('PATCH'), delete: record('DELETE') } as any,
    // The kernel asks for a route's middleware right after adding it: the moment to keep its options.
    routeMiddleware: (routeOptions) => {
      routes[routes.length - 1].options = routeOptions
      return []
    },
    deliverPaymentEvents: harness.deliver,
    // The host app's template engine: the plugin's views render as in the app (see `renderView`).
    mountViews: (diskName, directory) => edge.mount(diskName, directory),
  })
  const source = folder instanceof URL ? fileURLToPath(folder) : folder
  await kernel.boot([{ source, options }])
  const [info] = kernel.plugins

  return {
    name: info.name,
    hooks: kernel.hooks,
    payments: kernel.payments,
    storage: kernel.storage,
    watermarks: kernel.watermarks,
    entitlements: kernel.entitlements,
    settings: kernel.settings.get(info.name),
    state: new PluginStateStore(info.name),
    routes,
    commands: kernel.commands.map((entry) => entry.command),
    health: async () => (info.health ? info.health() : null),
    request: async (method, path, input = {}) => {
      const match = routes.map((route) => ({ route, params: matchPath(route, method, path) })).find((found) => found.params)
      if (!match) throw new Error(`${info.name} has no ${method} route matching ${path} (it has: ${routes.map((r) => `${r.method} ${r.path}`).join(', ') || 'none'})`)
      const ctx: HttpContext = await testUtils.createHttpContext()
      ctx.request.request.method = method
      ctx.request.request.url = path
      ctx.params = match.params!
      ctx.request.updateQs(input.query ?? {})
      ctx.request.updateBody(input.body ?? {})
      const returned = await match.route.handler(ctx)
      // As the app's server does: a handler may return its response body instead of sending it.
      if (returned !== undefined && !ctx.response.hasLazyBody) ctx.response.send(returned)
      return { status: ctx.response.getStatus(), body: ctx.response.getBody(), headers: ctx.response.getHeaders() }
    },
  }
}

/** The route's params when `path` matches its pattern (`:name` segments), else null. */
function matchPath(route: RecordedRoute, method: string, path: string): Record<string, string> | null {
  if (route.method !== method) return null
  const pattern = route.path.split('/')
  const actual = path.split('?')[0].replace(/\/$/, '').split('/')
  if (pattern.length !== actual.length) return null
  const params: Record<string, string> = {}
  for (const [index, segment] of pattern.entries()) {
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(actual[index])
    else if (segment !== actual[index]) return null
  }
  return params
}
