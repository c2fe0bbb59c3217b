import type { Logger } from '@adonisjs/core/logger'
import type { HttpContext } from '@adonisjs/core/http'
import type { BaseCommand } from '@adonisjs/core/ace'
import type { Infer, SchemaTypes } from '@vinejs/vine/types'
import type { ActionListener, FilterFn } from './hook_bus.js'
import type { ActionName, FilterHooks, FilterName } from './hook_names.js'
import type {
  EntitlementSource,
  PaymentProvider,
  PluginHealth,
  StorageBackend,
  ProviderEvent,
  Watermarker,
} from './contracts.js'
import type { PluginSettings, SettingsFields } from './plugin_settings.js'
import type { Paywall } from './paywalls.js'

export const PLUGIN_MARK = Symbol.for('matinee.plugin')

export type PluginRouteHandler = (ctx: HttpContext) => unknown | Promise<unknown>

export interface PluginRouteOptions {
  /** Require a logged-in user (redirect to login otherwise). */
  auth?: boolean
  /** Require one of these roles (403 otherwise). Implies auth. */
  roles?: Array<'viewer' | 'creator' | 'admin'>
  /**
   * Count each request against one of the instance's named rate limits (the
   * operator sets its numbers: README, Accounts and limits), per logged-in
   * user, else per client address. Over it: 429 with Retry-After and a
   * sentence, before the handler runs.
   */
  rateLimit?: PluginRateLimit
}

/** The named rate limits a plugin route may use (an unknown name stops the boot). */
export type PluginRateLimit = 'checkout' | 'crypto_quote' | 'playback_open' | 'upload_create'

export interface PluginRouter {
  /** Routes are mounted under /plugins/<plugin-name>. */
  get(path: string, handler: PluginRouteHandler, options?: PluginRouteOptions): void
  post(path: string, handler: PluginRouteHandler, options?: PluginRouteOptions): void
  put(path: string, handler: PluginRouteHandler, options?: PluginRouteOptions): void
  patch(path: string, handler: PluginRouteHandler, options?: PluginRouteOptions): void
  delete(path: string, handler: PluginRouteHandler, options?: PluginRouteOptions): void
  /**
   * A POST endpoint at /webhooks/<plugin-name><path>, exempt from CSRF (the
   * plugin verifies the sender itself, e.g. with a signature).
   */
  webhook(path: string, handler: PluginRouteHandler): void
}

/** One environment variable's validator: `Env.schema.*` of @adonisjs/core (re-exported by the kit). */
export type PluginEnvValidator = (name: string, value?: string) => any

export interface PluginApi<Options = unknown> {
  /** The plugin's options from config/plugins.ts, validated against its schema. */
  options: Options
  /** The environment variables the plugin declares (`definePlugin({ env })`), validated. */
  env: Record<string, unknown>
  payments: {
    /**
     * Registers a payment provider. The core mounts its webhook at
     * `/webhooks/<provider id>` (no CSRF; the provider verifies the sender in
     * `handleWebhook`) and applies the events it returns to the orders.
     */
    register(provider: PaymentProvider): void
    /** Accounts creators connected at a provider (Stripe Connect...), keyed by provider id. */
    payoutAccounts: PayoutAccounts
    /**
     * Hands the core verified events of one of this plugin's providers that
     * did not come through its webhook (a chain watcher, an admin's manual
     * confirmation). Same rules as webhooks: each event id is applied once.
     * Resolves when they are durably recorded; throws if they could not be
     * (the caller retries them later).
     */
    deliver(providerId: string, events: ProviderEvent[]): Promise<DeliveryResult[]>
  }
  /**
   * HTTP payment protocols (x402) for the JSON API: a client without access
   * to a video is answered by the paywall (see paywalls.ts).
   */
  paywalls: { register(paywall: Paywall): void }
  storage: { register(backend: StorageBackend): void }
  watermarks: { register(watermarker: Watermarker): void }
  /** Extra reasons a viewer may watch a video (see EntitlementSource). */
  entitlements: { register(source: EntitlementSource): void }
  /**
   * The core's hooks (typed by name), and those plugins declare
   * (`definePlugin({ hooks })`; typed by the declaring plugin).
   */
  hooks: {
    onAction<N extends ActionName>(name: N, listener: ActionListener<N>): void
    onAction(name: string, listener: (payload: any) => unknown): void
    /** Lower priority runs first (default 10). */
    addFilter<N extends FilterName>(name: N, filter: FilterFn<N>, priority?: number): void
    addFilter(name: string, filter: (value: any, context: any) => unknown, priority?: number): void
    /** Runs a filter hook (every plugin's filters for it) over `value`. */
    applyFilters<N extends FilterName>(name: N, value: FilterHooks[N]['value'], context: FilterHooks[N]['context']): Promise<FilterHooks[N]['value']>
    applyFilters<T>(name: string, value: T, context: Record<string, unknown>): Promise<T>
    /** Fires an action hook this plugin declared. */
    doAction(name: string, payload: unknown): Promise<void>
  }
  router: PluginRouter
  views: {
    /**
     * Mounts the plugin's folder of Edge templates (a path or a `file:` URL):
     * `<folder>/wallet.edge` is the view `<plugin-name>::wallet`, for the
     * plugin's pages (`ctx.view.render('<plugin-name>::wallet', data)`, which
     * may wrap themselves in the site's layout with
     * `@component('components/layout', { title })`) and for the views its
     * providers hand the core (`PluginView`). Every `{{ value }}` is escaped;
     * a template printing raw HTML (`{{{ }}}`) stops the boot.
     */
    mount(folder: string | URL): void
  }
  /** Durable key/value records of this plugin (JSON values), kept in PostgreSQL. */
  state: PluginState
  commands: { add(command: typeof BaseCommand): void }
  settings: {
    /**
     * Typed settings an admin can edit on Admin → Plugins; values are
     * validated by `schema` (a VineJS object) on every write and fall back to
     * `defaults`. Each top-level field is one form field, typed by its VineJS
     * type; `fields` gives them labels and help text. Not for secrets: those
     * come from the environment, through the plugin's options.
     */
    define<Schema extends SchemaTypes>(schema: Schema, defaults: Infer<Schema>, fields?: SettingsFields<Schema>): PluginSettings<Schema>
  }
  /**
   * How the plugin is doing, shown to admins ("Stripe: no keys", "RPC
   * unreachable since 12:03"). Called when the admin page is rendered.
   */
  health(probe: () => PluginHealth | Promise<PluginHealth>): void
  audit: {
    /**
     * Writes an admin's action to the audit log (Admin → Audit log), as the
     * core does for its own. The action is prefixed with the plugin's name:
     * "mark_paid" from plugin "bank-transfer" is "bank-transfer.mark_paid".
     */
    record(entry: PluginAuditEntry): Promise<void>
  }
  logger: Logger
}

export interface PluginAuditEntry {
  /** Who did it (`ctx.auth.user`); null when the plugin acted by itself. */
  actor: { id: number } | null
  /** What was done, lowercase ("mark_paid"); stored as "<plugin>.<action>". */
  action: string
  /** What it was done to ("order") and its id. */
  subjectType: string
  subjectId?: string | number | null
  /** The user the action was about, when there is one. */
  targetUserId?: number | null
  before?: Record<string, unknown> | null
  after?: Record<string, unknown> | null
  /** One readable sentence for the log page. */
  summary: string
}

export interface DeliveryResult {
  eventId: string
  /** applied, duplicate (already received), ignored, deferred (waits for the payment) or rejected. */
  outcome: 'applied' | 'duplicate' | 'ignored' | 'deferred' | 'rejected'
  orderId?: string
  detail?: string
}

export interface PluginState {
  get<T = unknown>(key: string): Promise<T | null>
  set(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<void>
  /**
   * Writes `key` only if it does not exist yet, atomically (a unique row in
   * PostgreSQL): true for the one caller that wrote it, false for every
   * other, however many race. For things that may happen once (a nonce).
   */
  claim(key: string, value: unknown): Promise<boolean>
  /** Every record whose key starts with `prefix`, by key. */
  list<T = unknown>(prefix: string): Promise<Array<{ key: string; value: T; updatedAt: Date }>>
}

export interface PayoutAccount {
  accountRef: string
  /** The provider says the account can receive money now. */
  ready: boolean
}

export interface PayoutAccounts {
  get(providerId: string, userId: number): Promise<PayoutAccount | null>
  set(providerId: string, userId: number, account: PayoutAccount): Promise<void>
  remove(providerId: string, userId: number): Promise<void>
}

export interface PluginDefinition<Schema extends SchemaTypes | undefined = SchemaTypes | undefined> {
  /** Unique, lowercase: it names the plugin's routes, settings and logs. */
  name: string
  version: string
  description?: string
  /** A VineJS schema for the options given in config/plugins.ts. */
  options?: Schema
  /**
   * The environment variables this plugin reads, each with its validator
   * (`Env.schema.string()`, `Env.schema.secret.optional()`...; `Env` comes
   * from the kit). Validated when the app boots, before the options: a bad
   * value stops the boot naming the plugin and the variable. The values
   * reach `api.env`, and config/plugins.ts may build options from them.
   */
  env?: Record<string, PluginEnvValidator>
  /**
   * Hooks this plugin fires, with one line of documentation each (name →
   * doc): other plugins may then listen to them. Names are "<topic>:<event>"
   * and may not be the core's. The plugin types their payloads itself.
   */
  hooks?: { actions?: Record<string, string>; filters?: Record<string, string> }
  register(api: PluginApi<Schema extends SchemaTypes ? Infer<Schema> : undefined>): void | Promise<void>
}

export type MatineePlugin = PluginDefinition & { [PLUGIN_MARK]: true }

/**
 * Declares a plugin. The default export of a plugin module (or package) must
 * be the value this returns.
 */
export function definePlugin<Schema extends SchemaTypes | undefined = undefined>(
  definition: PluginDefinition<Schema>
): MatineePlugin {
  return Object.assign(definition as PluginDefinition, { [PLUGIN_MARK]: true as const })
}

export function isPlugin(value: unknown): value is MatineePlugin {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as any)[PLUGIN_MARK] === true &&
    typeof (value as any).register === 'function'
  )
}
