import db from '@adonisjs/lucid/services/db'
import playbackConfig from '#config/playback'
import type User from '#models/user'
import { WATERMARK_MODES, type WatermarkMode } from '#services/watermark/modes'
import audit from '#services/audit_service'

const KEY = 'watermark_default_mode'
/** How long a web node or worker trusts the value it read before reading it again. */
const MAX_AGE_MS = 5_000

/**
 * The instance's default watermark mode, for videos whose creator chose none
 * (Admin → Videos). Stored in `instance_settings`; until an admin sets it,
 * WATERMARK_DEFAULT_MODE, else null (visible when paid, off when free: see
 * Video.effectiveWatermarkMode). Held in process and re-read every few
 * seconds, so every node follows a change without a query per decision; the
 * decisions that matter (opening a session, planning a transcode) refresh
 * first.
 */
class WatermarkDefaultMode {
  /** What the admin set (null: nothing, the environment's default applies). */
  #stored: WatermarkMode | null = null
  #readAt = 0
  #reading: Promise<void> | null = null

  /** The value last read (a stale one starts a re-read in the background). */
  get current(): WatermarkMode | null {
    if (Date.now() - this.#readAt > MAX_AGE_MS) void this.refresh().catch(() => {})
    return this.#stored ?? playbackConfig.watermark.defaultMode
  }

  /** Whether the admin has set it (else it is the environment's). */
  async stored(): Promise<WatermarkMode | null> {
    const row = await db.from('instance_settings').where('key', KEY).first()
    const mode = row?.value?.mode
    return (WATERMARK_MODES as readonly string[]).includes(mode) ? mode : null
  }

  /** Reads it again unless read within the last few seconds. */
  async refresh(): Promise<WatermarkMode | null> {
    if (Date.now() - this.#readAt > MAX_AGE_MS) {
      this.#reading ??= this.stored()
        .then((mode) => {
          this.#stored = mode
          this.#readAt = Date.now()
        })
        .finally(() => (this.#reading = null))
      await this.#reading
    }
    return this.#stored ?? playbackConfig.watermark.defaultMode
  }

  /** Drops the value held in process: the next decision reads it again (tests reset the database under it). */
  forget() {
    this.#stored = null
    this.#readAt = 0
  }

  /** Sets it (null: back to the environment's default), audited with the value before. */
  async set(admin: User, mode: WatermarkMode | null) {
    const before = await this.stored()
    await db.transaction(async (trx) => {
      if (mode) {
        await trx.table('instance_settings').insert({ key: KEY, value: JSON.stringify({ mode }), updated_at: new Date() }).onConflict('key').merge()
      } else {
        await trx.from('instance_settings').where('key', KEY).delete()
      }
      await audit.record(
        {
          actor: admin,
          action: 'instance.watermark_default',
          subjectType: 'instance',
          before: { mode: before },
          after: { mode },
          summary: `Default watermark mode: ${before ?? 'automatic'} → ${mode ?? 'automatic'}`,
        },
        trx
      )
    })
    this.#stored = mode
    this.#readAt = Date.now()
  }
}

export default new WatermarkDefaultMode()
