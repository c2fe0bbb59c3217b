import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import { smtp } from '#tests/helpers/smtp_capture'

/**
 * Every test starts from empty tables, an empty Redis test database (rate
 * limits, sessions) and an empty mailbox.
 */
export async function resetState() {
  const tables = await db.rawQuery(
    "select tablename from pg_tables where schemaname = 'public' and tablename not like 'adonis_schema%'"
  )
  const names = tables.rows.map((row: { tablename: string }) => `"${row.tablename}"`)
  if (names.length) await db.rawQuery(`truncate ${names.join(', ')} restart identity cascade`)
  await redis.flushdb()
  smtp.clear()
}
