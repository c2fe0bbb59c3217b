import vine from '@vinejs/vine'
import db from '@adonisjs/lucid/services/db'
import type { Infer, SchemaTypes } from '@vinejs/vine/types'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'

/** How a setting is presented on its admin form; the schema decides what is valid. */
export interface SettingsFieldText {
  label: string
  help?: string
}

export type SettingsFields<Schema extends SchemaTypes> = Partial<Record<keyof Infer<Schema> & string, SettingsFieldText>>

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
    public readonly defaults: Infer<Schema>,
    public readonly fields: SettingsFields<Schema> = {}
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

  /**
   * The complete settings these changes would give (stored values + changes),
   * validated; throws VineJS's validation error, saving nothing.
   */
  async validate(changes: Partial<Infer<Schema>>): Promise<Infer<Schema>> {
    const current = await this.get()
    return (await this.#validator.validate({ ...(current as object), ...(changes as object) })) as Infer<Schema>
  }

  /** Saves settings `validate` returned (in `trx` when given, e.g. with its audit row). */
  async save(values: Infer<Schema>, trx?: TransactionClientContract): Promise<void> {
    await (trx ?? db)
      .table('plugin_settings')
      .insert({ plugin: this.plugin, values: JSON.stringify(values), updated_at: new Date() })
      .onConflict('plugin')
      .merge()
  }

  /** Validates the complete new settings (stored values + changes), then saves. */
  async set(changes: Partial<Infer<Schema>>): Promise<Infer<Schema>> {
    const values = await this.validate(changes)
    await this.save(values)
    return values
  }

  /** The schema as JSON Schema: what the admin form is built from. */
  jsonSchema() {
    return (this.schema as any).toJSONSchema?.() ?? null
  }
}
