/*
| @matinee/plugin-kit: everything a plugin may import. First-party plugins
| use it exactly as a third-party package would.
*/
export { definePlugin, isPlugin, PLUGIN_MARK } from './define_plugin.js'
export type {
  DeliveryResult,
  MatineePlugin,
  PayoutAccount,
  PayoutAccounts,
  PluginApi,
  PluginAuditEntry,
  PluginDefinition,
  PluginEnvValidator,
  PluginRouteHandler,
  PluginRateLimit,
  PluginRouteOptions,
  PluginRouter,
  PluginState,
} from './define_plugin.js'
export * from './contracts.js'
/** `Env.schema.*`: the validators of a plugin's environment variables (`definePlugin({ env })`). */
export { Env } from '@adonisjs/core/env'
export { PaywallRefusal } from './paywalls.js'
export type { Paywall, PaywallBuyer, PaywallReply, PaywallRequest } from './paywalls.js'
export { contentTypeFor } from './media_types.js'
export { escapeHtml } from './html.js'
export { formatMinor, formatTokenAmount, minorDigits, minorToDecimal } from './money.js'
export { ACTION_HOOK_DOCS, ACTION_HOOK_NAMES, FILTER_HOOK_DOCS, FILTER_HOOK_NAMES } from './hook_names.js'
export type { ActionHooks, ActionName, FilterHooks, FilterName, HookUser, PurchaseHookPayload } from './hook_names.js'
export type { PluginSettings, SettingsFields, SettingsFieldText } from './plugin_settings.js'
export { isProcessAlive } from './processes.js'
