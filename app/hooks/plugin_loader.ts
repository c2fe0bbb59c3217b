import { readFile, stat } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import vine, { errors as vineErrors } from '@vinejs/vine'
import { isPlugin, type MatineePlugin } from './define_plugin.js'

/** One line of config/plugins.ts. */
export interface PluginEntry {
  /** A path under the project ("./plugins/stripe") or an npm package name. */
  source: string
  /**
   * The plugin's options; or a function of the environment variables the
   * plugin declares (`definePlugin({ env })`, validated first) that returns them.
   */
  options?: Record<string, unknown> | ((env: Record<string, any>) => Record<string, unknown>)
}

export interface LoadedPlugin {
  plugin: MatineePlugin
  source: string
  options: unknown
  /** The plugin's own environment variables, validated. */
  env: Record<string, unknown>
}

/**
 * Reads and validates the environment variables a plugin declares, each with
 * its validator (`Env.schema.*`). A missing required or malformed one stops
 * the boot with a message naming the plugin and the variable.
 */
export function validatePluginEnv(plugin: MatineePlugin, source: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const [name, validate] of Object.entries(plugin.env ?? {})) {
    try {
      values[name] = validate(name, source[name] === '' ? undefined : source[name])
    } catch (error) {
      const reason = (error as Error).message.replace(/^E_INVALID_ENV_VALUE:\s*/, '')
      throw new PluginBootError(`Plugin "${plugin.name}": environment variable ${name}: ${reason}`)
    }
  }
  return values
}

export class PluginBootError extends Error {
  name = 'PluginBootError'
}

/** What a plugin name may be: it becomes a URL segment (/plugins/<name>), a settings key and a package name. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/

const isPathSource = (source: string) =>
  source.startsWith('./') || source.startsWith('../') || source.startsWith('/') || source.startsWith('plugins/')

/**
 * Finds the module of a plugin that lives in a folder: the folder's
 * package.json "exports" (".") or "main", else index.js.
 */
async function resolveFolderEntry(folder: string): Promise<string> {
  let pkg: any
  try {
    pkg = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8'))
  } catch {
    return join(folder, 'index.js')
  }
  const dot = typeof pkg.exports === 'string' ? pkg.exports : pkg.exports?.['.']
  const target = typeof dot === 'string' ? dot : (dot?.import ?? dot?.default ?? pkg.main ?? 'index.js')
  return join(folder, target)
}

async function importSource(source: string, appRoot: string): Promise<unknown> {
  if (!isPathSource(source)) {
    return import(source)
  }
  const absolute = isAbsolute(source) ? source : resolve(appRoot, source)
  const info = await stat(absolute).catch(() => null)
  if (!info) {
    throw new PluginBootError(`Plugin source "${source}" does not exist (looked at ${absolute})`)
  }
  const file = info.isDirectory() ? await resolveFolderEntry(absolute) : absolute
  return import(pathToFileURL(file).href)
}

function describeValidationError(pluginName: string, error: unknown): string {
  if (error instanceof vineErrors.E_VALIDATION_ERROR) {
    return (error.messages as Array<{ field: string; message: string }>)
      .map((m) => `Plugin "${pluginName}": option "${m.field}": ${m.message}`)
      .join('\n')
  }
  return `Plugin "${pluginName}": invalid options: ${(error as Error).message}`
}

/**
 * Imports every plugin listed, checks each really is a plugin, that names are
 * unique, and validates options against the plugin's schema. Any problem
 * stops the boot with a message naming the plugin and, for options, the option.
 */
export async function loadPlugins(entries: PluginEntry[], appRoot: string): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = []
  const seen = new Map<string, string>()

  for (const entry of entries) {
    let module: any
    try {
      module = await importSource(entry.source, appRoot)
    } catch (error) {
      if (error instanceof PluginBootError) throw error
      throw new PluginBootError(`Plugin source "${entry.source}" could not be loaded: ${(error as Error).message}`, {
        cause: error,
      })
    }

    const plugin = module?.default
    if (!isPlugin(plugin)) {
      throw new PluginBootError(
        `Plugin source "${entry.source}" does not export a plugin: its default export must be made with definePlugin()`
      )
    }
    if (!PLUGIN_NAME_PATTERN.test(plugin.name)) {
      throw new PluginBootError(`Plugin source "${entry.source}" has an invalid name "${plugin.name}" (use lowercase letters, digits and "-")`)
    }
    const previous = seen.get(plugin.name)
    if (previous) {
      throw new PluginBootError(`Two plugins are named "${plugin.name}": "${previous}" and "${entry.source}"`)
    }
    seen.set(plugin.name, entry.source)

    const env = validatePluginEnv(plugin)
    const given = typeof entry.options === 'function' ? entry.options(env) : (entry.options ?? {})
    let options: unknown = given
    if (plugin.options) {
      try {
        options = await vine.create(plugin.options).validate(given)
      } catch (error) {
        throw new PluginBootError(describeValidationError(plugin.name, error))
      }
    }
    loaded.push({ plugin, source: entry.source, options, env })
  }
  return loaded
}
