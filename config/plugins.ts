import env from '#start/env'
import type { PluginEntry } from '#hooks/plugin_loader'

/**
 * The enabled plugins, in load order, with their options. A source is a
 * folder of this project ("./plugins/<name>") or an installed npm package.
 * Options are validated against each plugin's schema when the app boots.
 *
 * PLUGINS_EXTRA (comma separated sources) adds plugins without editing this
 * file, with no options.
 */
const configured: PluginEntry[] = []

const extra: PluginEntry[] = (env.get('PLUGINS_EXTRA') ?? '')
  .split(',')
  .map((source) => source.trim())
  .filter(Boolean)
  .map((source) => ({ source }))

const pluginsConfig = { plugins: [...configured, ...extra] }

export default pluginsConfig
