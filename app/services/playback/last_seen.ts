import logger from '@adonisjs/core/services/logger'
import { DateTime } from 'luxon'
import playbackConfig from '#config/playback'
import PlaybackSession from '#models/playback_session'

/** How long marks gather before one UPDATE writes them all. */
const FLUSH_EVERY_MS = 1000

/**
 * Last-seen times of playback sessions (they feed the concurrent-session
 * limit, idle ends and viewing reports), written in the background: a
 * segment's answer never waits for a PostgreSQL commit, which stalls for
 * seconds when a transcode's writes fill the disk's queue. Each session is
 * marked at most every `touchEverySeconds`; the marks of a second go out in
 * one UPDATE. A node that dies loses at most that second's marks (its
 * sessions look idle a little earlier), never anything a viewer sees.
 */
export class LastSeenWriter {
  #pending = new Set<string>()
  #timer: NodeJS.Timeout | null = null
  #flushing: Promise<void> = Promise.resolve()

  /** Marks a session seen now, if it was not marked within `touchEverySeconds`. */
  touch(session: PlaybackSession) {
    const now = DateTime.now()
    if (session.lastSeenAt.toMillis() >= now.toMillis() - playbackConfig.touchEverySeconds * 1000) return
    session.lastSeenAt = now
    this.#pending.add(session.id)
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS).unref()
  }

  /** Writes the marks gathered so far (the timer calls it; tests call it to see the write). */
  flush() {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const ids = [...this.#pending]
    this.#pending.clear()
    if (!ids.length) return this.#flushing
    this.#flushing = this.#flushing.then(() =>
      PlaybackSession.query()
        .whereIn('id', ids)
        .update({ lastSeenAt: DateTime.now().toSQL() })
        .then(() => {})
        .catch((error) => logger.warn({ err: error, sessions: ids.length }, 'could not write last-seen times (each session is marked again at its next request after touchEverySeconds)'))
    )
    return this.#flushing
  }
}

const lastSeen = new LastSeenWriter()
export default lastSeen
