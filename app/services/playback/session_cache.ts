import logger from '@adonisjs/core/services/logger'
import redis from '@adonisjs/redis/services/main'
import playbackConfig from '#config/playback'
import queueConfig from '#config/queue'
import type PlaybackSession from '#models/playback_session'
import type User from '#models/user'
import type Video from '#models/video'
import hotObjects from '#services/media/hot_objects'
import { videoPrefix } from '#services/media/storage_keys'

/** Which cached sessions a change concerns. */
export interface PlaybackInvalidation {
  sessionIds?: string[]
  /** All sessions of a user (with `videoId`: of that video only). */
  userId?: number
  /** All sessions of a video. */
  videoId?: string
}

/** A live session as the last check from PostgreSQL found it: the entitlement chain said yes. */
export interface CachedPlayback {
  session: PlaybackSession
  video: Video
  user: User
  /** When this was loaded (ms): entries older than the TTL are loaded again. */
  loadedAt: number
}

const CHANNEL = `${queueConfig.prefix}:playback:invalidate`
/** How long a change waits for its announcement to leave (it goes on in the background after). */
const PUBLISH_WAIT_MS = 1000

/**
 * Live playback sessions held in this web process, so that playlist and
 * segment requests read neither PostgreSQL nor the session store. Every
 * revocation (close, logout, ban, refund, dispute, takedown, a changed video
 * or role...) is published on Redis and drops the entries on every web node
 * at once. Bounded (least recently used entries go first) and with a TTL as a
 * safety net for what no event announces (a plugin's grant that ran out).
 *
 * Fail safe: entries are kept only while this process is subscribed to the
 * invalidation channel. When the subscriber connection drops, the cache is
 * emptied and disabled until it is subscribed again, so a missed revocation
 * can never be served from memory; requests then read PostgreSQL every time,
 * as before.
 */
export class PlaybackSessionCache {
  #entries = new Map<string, CachedPlayback>()
  #subscribed = false
  #started = false
  /** The first subscription succeeded (later readiness means a resubscription). */
  #confirmed = false
  /** Bumped by every invalidation: a load that began before one must not be cached. */
  #generation = 0

  get enabled() {
    return this.#subscribed && playbackConfig.cache.ttlSeconds > 0
  }

  get size() {
    return this.#entries.size
  }

  /** Subscribes this process to invalidations (once; web processes call it on their first playback request). */
  start() {
    if (this.#started) return
    this.#started = true
    const connection = redis.connection()
    const down = () => {
      if (this.#subscribed) logger.warn('playback cache disabled: the Redis invalidation channel is down')
      this.#subscribed = false
      this.#clear()
    }
    connection.on('subscriber:close', down)
    connection.on('subscriber:end', down)
    connection.on('subscriber:error', down)
    connection.on('subscriber:reconnecting', down)
    // After a reconnect ioredis subscribes again on its own: start afresh
    // (what was published while it was away is lost, so nothing old is kept).
    connection.on('subscriber:ready', () => {
      if (!this.#confirmed) return
      this.#clear()
      this.#subscribed = true
    })
    connection.subscribe(CHANNEL, (message: string) => this.#apply(message), {
      onSubscription: () => {
        this.#confirmed = true
        this.#clear()
        this.#subscribed = true
      },
      onError: (error) => logger.warn({ err: error }, 'playback cache disabled: cannot subscribe to invalidations'),
    })
  }

  /** The generation a load starts at; pass it back to `set`. */
  get generation() {
    return this.#generation
  }

  get(sessionId: string): CachedPlayback | null {
    const entry = this.#entries.get(sessionId)
    if (!entry) return null
    if (!this.enabled || Date.now() - entry.loadedAt > playbackConfig.cache.ttlSeconds * 1000) {
      this.#entries.delete(sessionId)
      return null
    }
    // Most recently used last: the first entries are the ones to evict.
    this.#entries.delete(sessionId)
    this.#entries.set(sessionId, entry)
    return entry
  }

  /** Keeps a checked session, unless anything was invalidated since its load began. */
  set(entry: CachedPlayback, generation: number) {
    if (!this.enabled || generation !== this.#generation) return
    this.#entries.delete(entry.session.id)
    this.#entries.set(entry.session.id, entry)
    while (this.#entries.size > playbackConfig.cache.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!)
    }
  }

  drop(sessionId: string) {
    this.#entries.delete(sessionId)
  }

  /**
   * Drops the sessions a change concerns, here at once and on every other
   * web node through Redis. Call it after the change is committed.
   */
  async invalidate(scope: PlaybackInvalidation) {
    this.#forget(scope)
    // Never held up by a Redis outage (a revocation or a save must not wait
    // for it): the other nodes' subscribers are down too and their caches off.
    let timer: NodeJS.Timeout | undefined
    const published = redis.publish(CHANNEL, JSON.stringify(scope)).catch((error) => {
      logger.warn({ err: error }, 'could not publish a playback invalidation')
    })
    await Promise.race([published, new Promise<void>((resolve) => (timer = setTimeout(resolve, PUBLISH_WAIT_MS)))])
    clearTimeout(timer)
  }

  #apply(message: string) {
    try {
      this.#forget(JSON.parse(message) as PlaybackInvalidation)
    } catch {
      // Not ours to understand: drop everything rather than keep something stale.
      this.#clear()
    }
  }

  #forget(scope: PlaybackInvalidation) {
    this.#generation++
    for (const id of scope.sessionIds ?? []) this.#entries.delete(id)
    if (scope.userId === undefined && !scope.videoId) return
    // The video itself changed (a new transcode, say): its segments are read again too.
    if (scope.videoId && scope.userId === undefined) hotObjects.dropPrefix(videoPrefix(scope.videoId))
    // Both given: that user's sessions of that video.
    for (const [id, entry] of this.#entries) {
      const user = scope.userId === undefined || entry.session.userId === scope.userId
      const video = !scope.videoId || entry.session.videoId === scope.videoId
      if (user && video) this.#entries.delete(id)
    }
  }

  #clear() {
    this.#generation++
    this.#entries.clear()
    // Announcements may have been missed: nothing held of any video is trusted either.
    hotObjects.clear()
  }
}

const playbackCache = new PlaybackSessionCache()
export default playbackCache

/**
 * For model hooks: a saved or deleted row that playback depends on (a video,
 * a user) drops the sessions it concerns once its transaction commits (before
 * that, another node would load the old row again).
 */
export async function invalidatePlaybackAfterCommit(row: { $trx?: { after(event: 'commit', handler: () => void): void } | null }, scope: PlaybackInvalidation) {
  if (row.$trx) row.$trx.after('commit', () => void playbackCache.invalidate(scope))
  else await playbackCache.invalidate(scope)
}
