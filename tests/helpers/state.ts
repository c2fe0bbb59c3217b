import watermarkDefaultMode from '#services/watermark/default_mode'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import { rm } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import mediaConfig from '#config/media'
import { smtp } from '#tests/helpers/smtp_capture'

/**
 * Every test starts from empty tables, an empty Redis test database (rate
 * limits, sessions, queues), empty test storage and upload folders, and an
 * empty mailbox.
 */
export async function resetState() {
  const tables = await db.rawQuery(
    "select tablename from pg_tables where schemaname = 'public' and tablename not like 'adonis_schema%'"
  )
  const names = tables.rows.map((row: { tablename: string }) => `"${row.tablename}"`)
  if (names.length) await db.rawQuery(`truncate ${names.join(', ')} restart identity cascade`)
  await redis.flushdb()
  await rm(app.makePath(env.get('STORAGE_LOCAL_ROOT')), { recursive: true, force: true })
  await rm(app.makePath(mediaConfig.uploadDir), { recursive: true, force: true })
  smtp.clear()
  watermarkDefaultMode.forget()
}
