import db from '@adonisjs/lucid/services/db'
import type User from '#models/user'
import type { PluginSettings } from '#hooks/plugin_settings'
import audit from '#services/audit_service'
import plugins from '#services/plugins'
import { Exception } from '@adonisjs/core/exceptions'

/** One input of a plugin's settings form, derived from the plugin's schema. */
export interface SettingsFormField {
  name: string
  label: string
  help?: string
  input: 'text' | 'number' | 'checkbox' | 'select'
  required: boolean
  value: unknown
  options?: string[]
  /** HTML constraints, so the browser says early what the schema will say anyway. */
  attributes: Record<string, string | number | undefined>
}

export interface SettingsForm {
  plugin: string
  fields: SettingsFormField[]
}

const humanize = (name: string) =>
  name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').replace(/^./, (c) => c.toUpperCase())

/** VineJS describes booleans as the enum of the values it accepts for one. */
const isBooleanEnum = (values: unknown[]) => values.includes(true) && values.includes(false)

/**
 * The settings plugins declare (`api.settings.define`), as admin forms: one
 * field per top-level property of the plugin's schema. Saving validates the
 * whole document with that schema; a refusal saves nothing.
 */
export class PluginSettingsService {
  /** The form of a plugin's settings with their current values; 404 when it has none. */
  async form(pluginName: string): Promise<SettingsForm> {
    const settings = this.#settingsOf(pluginName)
    const schema = settings.jsonSchema() ?? { properties: {} }
    const values = (await settings.get()) as Record<string, unknown>
    const required = new Set<string>(schema.required ?? [])
    const fields = Object.entries<any>(schema.properties ?? {}).map(([name, property]): SettingsFormField => {
      const text = (settings.fields as Record<string, { label: string; help?: string }>)[name]
      const base = { name, label: text?.label ?? humanize(name), help: text?.help, required: required.has(name), value: values[name] }
      if (Array.isArray(property.enum) && isBooleanEnum(property.enum)) {
        return { ...base, input: 'checkbox', required: false, attributes: {} }
      }
      if (Array.isArray(property.enum)) {
        return { ...base, input: 'select', options: property.enum.map(String), attributes: {} }
      }
      if (property.type === 'number' || property.type === 'integer') {
        return {
          ...base,
          input: 'number',
          attributes: { min: property.minimum, max: property.maximum, step: property.type === 'integer' ? 1 : 'any' },
        }
      }
      return {
        ...base,
        input: 'text',
        attributes: { minlength: property.minLength, maxlength: property.maxLength, pattern: property.pattern },
      }
    })
    return { plugin: pluginName, fields }
  }

  /** Plugins that have settings, by name. */
  configurable(): string[] {
    return [...plugins.settings.keys()]
  }

  /**
   * Saves what the form sent. Unchecked checkboxes are not sent: a boolean
   * field that is absent means false. Fields the schema does not know are
   * ignored. Throws VineJS's validation error (nothing saved) on bad values.
   */
  async update(actor: User, pluginName: string, input: Record<string, unknown>) {
    const form = await this.form(pluginName)
    const settings = this.#settingsOf(pluginName)
    const changes: Record<string, unknown> = {}
    for (const field of form.fields) {
      if (field.input === 'checkbox') changes[field.name] = input[field.name] !== undefined && input[field.name] !== null
      else if (field.name in input) changes[field.name] = input[field.name] ?? undefined
    }
    const before = (await settings.get()) as Record<string, unknown>
    const after = (await settings.validate(changes)) as Record<string, unknown>
    const changed = Object.keys({ ...before, ...after }).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    if (changed.length === 0) return { changed }
    await db.transaction(async (trx) => {
      await settings.save(after, trx)
      await audit.record(
        {
          actor,
          action: 'plugin.settings',
          subjectType: 'plugin',
          subjectId: pluginName,
          before: Object.fromEntries(changed.map((key) => [key, before[key] ?? null])),
          after: Object.fromEntries(changed.map((key) => [key, after[key] ?? null])),
          summary: `${actor.username} changed ${pluginName} settings: ${changed.join(', ')}`,
        },
        trx
      )
    })
    return { changed }
  }

  #settingsOf(pluginName: string): PluginSettings<any> {
    const settings = plugins.settings.get(pluginName)
    if (!settings) throw new Exception(`Plugin "${pluginName}" has no settings`, { status: 404, code: 'E_NO_PLUGIN_SETTINGS' })
    return settings
  }
}

export default new PluginSettingsService()
