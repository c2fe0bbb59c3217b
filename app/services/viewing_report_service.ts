import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'

export interface VideoViewing {
  /** Playback sessions opened. */
  views: number
  uniqueViewers: number
  /** Seconds watched: each session from its start to its last sign of life, at most the video's length. */
  watchSeconds: number
}

const num = (value: unknown) => Number(value ?? 0)

/**
 * What creators see of how their videos are watched, from playback
 * sessions (one is opened each time the player starts; its last renewal or
 * position report is its `last_seen_at`).
 */
export class ViewingReportService {
  async perVideo(videoIds: string[]): Promise<Map<string, VideoViewing>> {
    const byVideo = new Map<string, VideoViewing>()
    if (!videoIds.length) return byVideo
    const rows = await db
      .from('playback_sessions as ps')
      .join('videos as v', 'v.id', 'ps.video_id')
      .whereIn('ps.video_id', videoIds)
      .groupBy('ps.video_id')
      .select('ps.video_id')
      .select(db.raw('count(*) AS views'))
      .select(db.raw('count(DISTINCT ps.user_id) AS unique_viewers'))
      .select(
        db.raw(
          `COALESCE(SUM(LEAST(GREATEST(EXTRACT(EPOCH FROM ps.last_seen_at - ps.created_at), 0), COALESCE(v.duration_seconds, 0))), 0) AS watch_seconds`
        )
      )
    for (const row of rows) {
      byVideo.set(row.video_id, { views: num(row.views), uniqueViewers: num(row.unique_viewers), watchSeconds: Math.round(num(row.watch_seconds)) })
    }
    return byVideo
  }

  /** Views per day of a creator's videos over the last `days` days (UTC), every day present. */
  async viewsByDay(ownerId: number, days = 30) {
    const since = DateTime.utc().startOf('day').minus({ days: days - 1 })
    const rows = await db
      .from('playback_sessions as ps')
      .join('videos as v', 'v.id', 'ps.video_id')
      .where('v.owner_id', ownerId)
      .where('ps.created_at', '>=', since.toJSDate())
      .groupByRaw('1')
      .select(db.raw(`((ps.created_at AT TIME ZONE 'UTC')::date)::text AS day`))
      .select(db.raw('count(*) AS views'))
    const counts = new Map(rows.map((row) => [row.day as string, num(row.views)]))
    return Array.from({ length: days }, (_, i) => {
      const day = since.plus({ days: i }).toISODate()!
      return { day, value: counts.get(day) ?? 0 }
    })
  }
}

const viewingReports = new ViewingReportService()
export default viewingReports
