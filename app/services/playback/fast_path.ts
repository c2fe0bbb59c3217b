import playbackConfig from '#config/playback'
import PlaybackSession from '#models/playback_session'
import User from '#models/user'
import Video from '#models/video'
import entitlements from '#services/entitlement_service'
import playback, { type PlaybackReply } from '#services/playback_service'
import playbackCache, { type CachedPlayback } from '#services/playback/session_cache'
import { parsePlayPath } from '#services/playback/playlist'
import { isUuid } from '#services/ids'
import lastSeen from '#services/playback/last_seen'

/**
 * The viewer cookie: set (signed with APP_KEY) on the browser that opened or
 * renewed a playback session, with its user and its playback device. Scoped
 * to /play/, cleared at logout.
 */
export const VIEWER_COOKIE = 'matinee-play'

export interface ViewerProof {
  userId: number
  deviceId: string
}

/** A cookie's value as sent (undefined when absent): the memo key of a verified viewer cookie. */
function rawCookie(header: string | undefined, name: string) {
  if (!header) return undefined
  for (const pair of header.split(';')) {
    const index = pair.indexOf('=')
    if (index > 0 && pair.slice(0, index).trim() === name) return pair.slice(index + 1).trim()
  }
  return undefined
}

export const viewerCookieValue = (proof: ViewerProof) => ({ u: proof.userId, d: proof.deviceId })

function proofFrom(value: unknown): ViewerProof | null {
  if (!value || typeof value !== 'object') return null
  const { u, d } = value as { u?: unknown; d?: unknown }
  return Number.isSafeInteger(u) && typeof d === 'string' ? { userId: u as number, deviceId: d } : null
}

/**
 * The fast segment path: playlists and segments of a session this web node
 * holds in memory are answered without reading PostgreSQL or the web session
 * store. Who may use the session is proven by
 *   - the URL's signature (this session, this path, a few minutes), and
 *   - the signed viewer cookie, which must name the session's own user and
 *     the device (browser) it was opened from.
 * The cookie is only ever given to a browser logged in as that user (open and
 * renew check the web session), logging out clears it and revokes that
 * browser's sessions, a ban or password change revokes all of them; every
 * revocation drops the session from every node's memory over Redis.
 *
 * Anything else (no cookie, a stranger's cookie, a revoked, expired or unknown
 * session, a refused entitlement, a bad signature) returns null: the request
 * then goes through the full check, which gives the exact refusal it always
 * gave. So the fast path only ever answers requests the full check would
 * answer with media.
 */
export class PlaybackFastPath {
  /** Viewer cookies already verified: raw signed value → what it proves (bounded). */
  #viewers = new Map<string, ViewerProof>()

  /**
   * The viewer a request's cookie proves. Verifying the signature is an HMAC
   * per request; the same raw value always verifies the same way (its
   * signature has no expiry, the key is APP_KEY), so a value verified once
   * is remembered and the request pays only the URL's HMAC.
   */
  viewer(cookieHeader: string | undefined, verify: () => unknown): ViewerProof | null {
    const raw = rawCookie(cookieHeader, VIEWER_COOKIE)
    if (!raw) return null
    const known = this.#viewers.get(raw)
    if (known) return known
    const proof = proofFrom(verify())
    if (!proof) return null
    if (this.#viewers.size >= playbackConfig.cache.maxEntries) this.#viewers.delete(this.#viewers.keys().next().value!)
    this.#viewers.set(raw, proof)
    return proof
  }

  async reply(input: { sessionId: string; path: string; exp: unknown; sig: unknown; viewer: ViewerProof | null; range: string | undefined }): Promise<PlaybackReply | null> {
    if (playbackConfig.cache.ttlSeconds <= 0 || !isUuid(input.sessionId)) return null
    const target = parsePlayPath(input.path)
    const viewer = input.viewer
    if (!target || !viewer) return null
    if (playback.signer.check(input.sessionId, input.path, input.exp, input.sig) !== 'valid') return null
    playbackCache.start()
    const entry = await this.#entry(input.sessionId, viewer)
    if (!entry) return null
    lastSeen.touch(entry.session)
    return playback.replyFor(entry.session, entry.video, target, input.range)
  }

  /** The session from memory, or loaded and checked now (and kept if the cache is on). */
  async #entry(sessionId: string, viewer: ViewerProof): Promise<CachedPlayback | null> {
    const cached = playbackCache.get(sessionId)
    if (cached && this.#usable(cached.session, viewer)) return cached
    if (cached) playbackCache.drop(sessionId)

    const generation = playbackCache.generation
    const session = await PlaybackSession.find(sessionId)
    if (!session || !this.#usable(session, viewer)) return null
    const [video, user] = await Promise.all([Video.find(session.videoId), User.find(session.userId)])
    if (!video || !user || !(await entitlements.decide(user, video)).allowed) return null
    const entry = { session, video, user, loadedAt: Date.now() }
    playbackCache.set(entry, generation)
    return entry
  }

  #usable(session: PlaybackSession, viewer: ViewerProof) {
    // A rental or pass that ran out goes to the full check, which ends the session and says why.
    return (
      session.userId === viewer.userId &&
      session.deviceId === viewer.deviceId &&
      !session.isRevoked &&
      !session.isExpired &&
      !session.accessHasEnded
    )
  }
}

const playbackFastPath = new PlaybackFastPath()
export default playbackFastPath
