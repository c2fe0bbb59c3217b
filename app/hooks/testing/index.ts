/*
| @matinee/plugin-kit/testing: the contract suites a provider plugin runs in
| its own tests (japa). They import only the kit, so a package outside this
| repository can run them too.
*/
export { storageBackendContract } from './storage_backend_contract.js'
export { paymentProviderContract } from './payment_provider_contract.js'
export type {
  DeliveredNotifications,
  PaymentProviderFixture,
  StartedCheckout,
  WebhookNotifications,
} from './payment_provider_contract.js'
// One plugin booted with the real plugin API, in the host's test process (hooks, settings, state, routes).
export { bootPlugin } from './plugin_harness.js'
export type { PluginUnderTest, RecordedRoute, RouteResponse } from './plugin_harness.js'
