import vine from '@vinejs/vine'
import db from '@adonisjs/lucid/services/db'
import type { Infer, SchemaTypes } from '@vinejs/vine/types'

/**
 * One plugin's settings, stored as a JSON document in `plugin_settings`.
 * Reads merge the stored values over the defaults and drop anything that no
 * longer passes the schema; writes are validated and refused whole.
 */
export class PluginSettings<Schema extends SchemaTypes> {
  #validator

  constructor(
    public readonly plugin: string,
    public readonly schema: Schema,
    public readonly defaults: Infer<Schema>
  ) {
    this.#validator = vine.create(schema)
  }

  async get(): Promise<Infer<Schema>> {
    const row = await db.from('plugin_settings').where('plugin', this.plugin).first()
    const merged = { ...(this.defaults as object), ...(row?.values ?? {}) }
    try {
      return (await this.#validator.validate(merged)) as Infer<Schema>
    } catch {
      return this.defaults
    }
  }

  /** Validates the complete new settings (stored values + changes), then saves. */
  async set(changes: Partial<Infer<Schema>>): Promise<Infer<Schema>> {
    const current = await this.get()
    const values = (await this.#validator.validate({ ...(current as object), ...(changes as object) })) as Infer<Schema>
    await db
      .table('plugin_settings')
      .insert({ plugin: this.plugin, values: JSON.stringify(values), updated_at: new Date() })
      .onConflict('plugin')
      .merge()
    return values
  }
}
