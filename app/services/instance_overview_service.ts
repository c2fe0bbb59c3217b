import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import Video from '#models/video'
import salesReports from '#services/sales_report_service'
import storage from '#services/storage_service'

/** Videos measured per overview view when an older instance has ready videos never measured. */
const MEASURE_PER_VIEW = 20

export interface CreatorStorage {
  userId: number
  username: string
  videos: number
  bytes: number
}

const countsBy = (rows: Array<Record<string, any>>, key: string) =>
  Object.fromEntries(rows.map((row) => [row[key], Number(row.count)])) as Record<string, number>

/**
 * The instance at a glance for admins: accounts, videos, storage per creator
 * and this month's revenue (from the ledger, per currency).
 */
export class InstanceOverviewService {
  async overview(now = DateTime.utc()) {
    await this.#measureUnmeasured()
    const monthStart = now.startOf('month')
    const [roles, banned, newUsers, statuses, takenDown, storagePerCreator, revenue, days] = await Promise.all([
      db.from('users').select('role').count('* as count').groupBy('role'),
      db.from('users').whereNotNull('banned_at').count('* as count').first(),
      db.from('users').where('created_at', '>=', monthStart.toJSDate()).count('* as count').first(),
      db.from('videos').select('status').count('* as count').groupBy('status'),
      db.from('videos').whereNotNull('taken_down_at').count('* as count').first(),
      this.storagePerCreator(),
      salesReports.totals(undefined, monthStart),
      salesReports.revenueByDay(undefined, now.day),
    ])
    const byRole = countsBy(roles, 'role')
    const byStatus = countsBy(statuses, 'status')
    return {
      month: monthStart,
      users: {
        total: Object.values(byRole).reduce((a, b) => a + b, 0),
        byRole,
        banned: Number(banned?.count ?? 0),
        newThisMonth: Number(newUsers?.count ?? 0),
      },
      videos: {
        total: Object.values(byStatus).reduce((a, b) => a + b, 0),
        byStatus,
        takenDown: Number(takenDown?.count ?? 0),
      },
      storage: {
        perCreator: storagePerCreator,
        totalBytes: storagePerCreator.reduce((sum, row) => sum + row.bytes, 0),
      },
      revenue,
      charts: revenue.map((total) => salesReports.chart(days, total.currency, now.day, 'platform')),
    }
  }

  /** Bytes stored per video owner, largest first (videos not yet ready count as their upload). */
  async storagePerCreator(): Promise<CreatorStorage[]> {
    const rows = await db
      .from('videos as v')
      .join('users as u', 'u.id', 'v.owner_id')
      .select('u.id', 'u.username')
      .count('* as videos')
      .select(db.raw('SUM(COALESCE(v.stored_bytes, v.source_size, 0)) AS bytes'))
      .groupBy('u.id', 'u.username')
      .orderBy('bytes', 'desc')
    return rows.map((row) => ({ userId: row.id, username: row.username, videos: Number(row.videos), bytes: Number(row.bytes) }))
  }

  /** Ready videos from before storage was measured at transcode time: measure a few now. */
  async #measureUnmeasured() {
    const videos = await Video.query().where('status', 'ready').whereNull('storedBytes').limit(MEASURE_PER_VIEW)
    for (const video of videos) {
      video.storedBytes = await storage.sizeOf(video.storagePrefix)
      await video.save()
    }
  }
}

export default new InstanceOverviewService()
