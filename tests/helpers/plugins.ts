import type { ActionHooks, ActionName, PaymentProvider } from '@matinee/plugin-kit'
import plugins from '#services/plugins'

/*
| For plugin packages' own tests (the `plugins` suite), which run inside the
| app: the objects the app made from config/plugins.ts.
*/

/** A payment provider as the app registered it; `Provider` is the plugin's own class, for its extras. */
export function registeredPaymentProvider<Provider extends PaymentProvider = PaymentProvider>(id: string): Provider {
  return plugins.payments.getOrFail(id) as Provider
}

/** A plugin's settings as the app defined them, to arrange a test (admins change them on Admin → Plugins). */
export function definedSettings(plugin: string) {
  const settings = plugins.settings.get(plugin)
  if (!settings) throw new Error(`Plugin "${plugin}" defined no settings`)
  return settings
}

/** Fires an action hook at every plugin the app runs, as the core does (`demo:seeded` after the demo seeder...). */
export function fireAction<Name extends ActionName>(name: Name, payload: ActionHooks[Name]) {
  return plugins.hooks.doAction(name, payload)
}
