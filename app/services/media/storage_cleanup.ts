import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import StorageDeletion from '#models/storage_deletion'
import storage from '#services/storage_service'

/** How often a worker retries the deletions that are due. */
export const STORAGE_CLEANUP_INTERVAL_MS = 5 * 60_000

/**
 * A fresh record is not the chore's yet: the process that wrote it deletes
 * the files right after its commit. Past this, that process is taken to have
 * died or failed, and the chore takes over.
 */
const HANDOVER_MINUTES = 2

/** The longest wait between two attempts of one prefix. */
const MAX_BACKOFF_MINUTES = 60

export interface CleanupReport {
  attempted: number
  deleted: number
  failed: number
}

/**
 * Deleting stored files of rows that are gone. The prefixes are recorded in
 * the same transaction that deletes the rows (so a process that dies after
 * its commit loses nothing), deleted right after the commit, and a deletion
 * that failed stays recorded with its error and is retried by a worker chore
 * with a growing delay until the backend succeeds. Never the other way round:
 * files are not deleted before the rows that point at them are gone.
 */
export class StorageCleanup {
  /** Records prefixes to delete, in the caller's transaction. */
  async schedule(prefixes: string[], trx?: TransactionClientContract) {
    const unique = [...new Set(prefixes)]
    if (!unique.length) return
    await (trx ?? db).rawQuery(
      `INSERT INTO storage_deletions (prefix, attempts, next_attempt_at, created_at, updated_at)
       SELECT prefix, 0, now() + make_interval(mins => ?), now(), now() FROM unnest(?::text[]) AS prefix
       ON CONFLICT (prefix) DO NOTHING`,
      [HANDOVER_MINUTES, unique]
    )
  }

  /**
   * Deletes recorded prefixes now (after the commit that recorded them).
   * Never throws: what fails stays recorded for the chore.
   */
  async run(prefixes: string[]): Promise<CleanupReport> {
    let deleted = 0
    for (const prefix of new Set(prefixes)) if (await this.#attempt(prefix)) deleted++
    return { attempted: prefixes.length, deleted, failed: prefixes.length - deleted }
  }

  /** The worker chore: retries every recorded deletion that is due at `now`. */
  async retryDue({ now = DateTime.now(), limit = 100 }: { now?: DateTime; limit?: number } = {}): Promise<CleanupReport> {
    const due = await StorageDeletion.query().where('nextAttemptAt', '<=', now.toSQL()!).orderBy('nextAttemptAt').limit(limit)
    let deleted = 0
    for (const record of due) if (await this.#attempt(record.prefix)) deleted++
    return { attempted: due.length, deleted, failed: due.length - deleted }
  }

  /** What still waits, for admins: how many prefixes, and the latest error. */
  async backlog() {
    const waiting = await StorageDeletion.query().orderBy('updatedAt', 'desc')
    const failing = waiting.find((record) => record.lastError)
    return { count: waiting.length, lastError: failing?.lastError ?? null, lastErrorAt: failing?.updatedAt ?? null }
  }

  async #attempt(prefix: string) {
    try {
      await storage.delete(prefix)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      logger.warn({ prefix, err: error }, 'storage deletion failed; it will be retried')
      await db
        .rawQuery(
          `UPDATE storage_deletions SET attempts = attempts + 1, last_error = ?, updated_at = now(),
             -- 1, 2, 4 ... minutes after the 1st, 2nd, 3rd failure, at most MAX_BACKOFF_MINUTES
             next_attempt_at = now() + make_interval(mins => LEAST(power(2, LEAST(attempts, 20))::int, ?))
           WHERE prefix = ?`,
          [message.slice(0, 2000), MAX_BACKOFF_MINUTES, prefix]
        )
        .catch((recordError) => logger.error({ prefix, err: recordError }, 'could not record a failed storage deletion'))
      return false
    }
    await StorageDeletion.query()
      .where('prefix', prefix)
      .delete()
      .catch((error) => logger.error({ prefix, err: error }, 'storage deleted but its record stays (deleted again later)'))
    return true
  }
}

const storageCleanup = new StorageCleanup()
export default storageCleanup
