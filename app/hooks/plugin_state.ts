import db from '@adonisjs/lucid/services/db'
import type { PluginState } from './define_plugin.js'

/** `api.state`: one plugin's durable records, rows of `plugin_state` keyed by (plugin, key). */
export class PluginStateStore implements PluginState {
  constructor(public readonly plugin: string) {}

  async get<T = unknown>(key: string): Promise<T | null> {
    const row = await db.from('plugin_state').where({ plugin: this.plugin, key: checkedKey(key) }).first()
    return row ? (row.value as T) : null
  }

  async set(key: string, value: unknown) {
    if (value === undefined) throw new Error('plugin state: a value is required (use delete to remove a key)')
    await db
      .table('plugin_state')
      .insert({ plugin: this.plugin, key: checkedKey(key), value: JSON.stringify(value), updated_at: new Date() })
      .onConflict(['plugin', 'key'])
      .merge(['value', 'updated_at'])
  }

  async claim(key: string, value: unknown) {
    if (value === undefined) throw new Error('plugin state: a value is required')
    const inserted = await db
      .table('plugin_state')
      .insert({ plugin: this.plugin, key: checkedKey(key), value: JSON.stringify(value), updated_at: new Date() })
      .onConflict(['plugin', 'key'])
      .ignore()
      .returning('key')
    return inserted.length === 1
  }

  async delete(key: string) {
    await db.from('plugin_state').where({ plugin: this.plugin, key: checkedKey(key) }).delete()
  }

  async list<T = unknown>(prefix: string) {
    const escaped = prefix.replace(/[\\%_]/g, (char) => `\\${char}`)
    const rows = await db
      .from('plugin_state')
      .where('plugin', this.plugin)
      .whereRaw(`key LIKE ? ESCAPE '\\'`, [`${escaped}%`])
      .orderBy('key')
    return rows.map((row) => ({ key: row.key as string, value: row.value as T, updatedAt: new Date(row.updated_at) }))
  }
}

function checkedKey(key: string) {
  if (typeof key !== 'string' || !key || key.length > 255) throw new Error('plugin state: keys are 1 to 255 characters')
  return key
}
