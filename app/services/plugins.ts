import app from '@adonisjs/core/services/app'
import { PluginKernel } from '#hooks/plugin_kernel'

/**
 * The booted plugin kernel: hooks (`plugins.hooks.doAction(...)`) and the
 * provider registries (`plugins.payments`, `plugins.storage`, `plugins.watermarks`).
 */
let plugins: PluginKernel

await app.booted(async () => {
  plugins = await app.container.make(PluginKernel)
})

export { plugins as default }
