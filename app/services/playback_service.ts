import { createHmac, randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import env from '#start/env'
import { PlaybackError } from '#exceptions/playback_error'
import playbackConfig from '#config/playback'
import PlaybackSession, { type RevokeReason } from '#models/playback_session'
import type User from '#models/user'
import Video, { type Rendition } from '#models/video'
import entitlements from '#services/entitlement_service'
import { broadcastPlaybackStopped } from '#services/video_events'
import plugins from '#services/plugins'
import storage from '#services/storage_service'
import { UrlSigner } from '#services/playback/url_signer'
import { isUuid } from '#services/ids'
import { parsePlayPath, rewritePlaylist, type PlayTarget } from '#services/playback/playlist'
import { captionKey, hlsKeys, watermarkedName } from '#services/media/storage_keys'
import captions from '#services/captions/caption_service'
import { lookUpStoredObject, unsatisfiableContentRange, type StoredObjectReply } from '#services/media/stored_object'
import { playerOverlay, sessionRenditions, sessionSegmentKey, type PlayerOverlay } from '#services/watermark/session_mark'
import { decideProtection } from '#services/watermark/admission'
import watermarks from '#services/watermark/just_in_time'
import playbackCache from '#services/playback/session_cache'
import lastSeen from '#services/playback/last_seen'

/** Why a session ended when what granted it ran out, in the player's words. */
export function accessEndedReason(via: string | null): { reason: RevokeReason; message: string } {
  if (via === 'rental') return { reason: 'rental_ended', message: 'Your rental ended' }
  if (via === 'pass') return { reason: 'pass_ended', message: 'Your pass ended' }
  if (via === 'membership') return { reason: 'membership_ended', message: 'Your membership ended' }
  return { reason: 'access_ended', message: 'Your access to this video ended' }
}

/** Keys derived from APP_KEY, one per purpose. */
const derive = (purpose: string) => createHmac('sha256', env.get('APP_KEY').release()).update(purpose).digest()

export interface OpenedSession {
  session: PlaybackSession
  masterUrl: string
  resumeAt: number
  /** A forensic session without the visible render: the name its player draws over the picture. */
  overlay: PlayerOverlay | null
  /** The seek bar's preview thumbnails (WebVTT with #xywh tiles of the sprite), if the video has a sprite. */
  thumbnailsUrl: string | null
  /** The video's subtitles, one signed WebVTT URL per language. */
  captions: Array<{ language: string; label: string; url: string }>
}

export interface ResolvedRequest {
  session: PlaybackSession
  video: Video
  target: PlayTarget
}

/**
 * What a playback request gets: a playlist's text, a WebVTT text, or a
 * stored object (with its head and range; `cacheSeconds` when the viewer's
 * browser may keep it).
 */
export type PlaybackReply = { kind: 'playlist'; text: string } | { kind: 'webvtt'; text: string } | (StoredObjectReply & { cacheSeconds?: number })

export interface PlaybackRequest {
  sessionId: string
  /** The raw path after /play/<session>/, as sent. */
  path: string
  exp: unknown
  sig: unknown
  user: User | undefined
  /** The `Range` header, if any. */
  range: string | undefined
}

/**
 * Playback sessions: who watches what, from which browser, until when. Every
 * playlist and segment URL is signed for one session and checked, with the
 * entitlement chain, on every request.
 */
export class PlaybackService {
  readonly signer = new UrlSigner(derive('matinee:playback-url'))
  signedUrl(sessionId: string, path: string) {
    return this.signer.url(sessionId, path, playbackConfig.urlTtlSeconds)
  }

  /** The renditions a session may play (see sessionRenditions). */
  renditionsOf(session: PlaybackSession, video: Video): Rendition[] {
    return sessionRenditions(session, video)
  }

  /**
   * Everything a playlist or segment request gets: checked (signature,
   * session, entitlement), then the playlist text or the stored object to
   * send, with its head. The controller only writes the answer.
   */
  async serve(input: PlaybackRequest): Promise<PlaybackReply> {
    const { session, video, target } = await this.resolve(input)
    return this.replyFor(session, video, target, input.range)
  }

  /** What to send for a target of a session already checked (here, or by the fast path). */
  async replyFor(session: PlaybackSession, video: Video, target: PlayTarget, rangeHeader: string | undefined): Promise<PlaybackReply> {
    if (target.kind === 'master') return { kind: 'playlist', text: await this.masterPlaylist(session, video) }
    if (target.kind === 'variant') return { kind: 'playlist', text: await this.variantPlaylist(session, video, target.rendition) }
    if (target.kind === 'thumbnails') return { kind: 'webvtt', text: await this.thumbnailsVtt(session, video) }
    let key: string
    if (target.kind === 'sprite' || target.kind === 'captions') {
      key = this.sideFileKey(video, target)
    } else if (target.kind === 'watermarked') {
      await watermarks.ensure(session, video, target.rendition, target.index)
      key = watermarks.renderKey(session.id, target.rendition, target.index)
    } else {
      key = this.storedMediaKey(session, video, target)
    }
    const object = await lookUpStoredObject(key, rangeHeader)
    if (object.kind === 'missing') throw new PlaybackError('not_found', 404, 'No such playback resource')
    if (object.kind === 'unsatisfiable') {
      throw new PlaybackError('range_not_satisfiable', 416, 'The requested byte range is not satisfiable', {
        'Content-Range': unsatisfiableContentRange(object.size),
      })
    }
    // The sprite is asked for once per scrub preview: the viewer's browser keeps it for the session.
    return target.kind === 'sprite' ? { ...object, cacheSeconds: playbackConfig.sessionTtlMinutes * 60 } : object
  }

  /** The stored key of a file beside the HLS ladder: the thumbnail sheet or one language's subtitles. */
  sideFileKey(video: Video, target: Extract<PlayTarget, { kind: 'sprite' | 'captions' }>) {
    if (target.kind === 'captions') return captionKey(video.id, target.language)
    if (!video.sprite) throw new PlaybackError('not_found', 404, 'This video has no preview thumbnails')
    return video.sprite.key
  }

  /**
   * The sprite's WebVTT for the session: every tile names the sheet by a
   * signed URL of the session (the player's seek bar reads the #xywh of each).
   */
  async thumbnailsVtt(session: PlaybackSession, video: Video) {
    if (!video.sprite) throw new PlaybackError('not_found', 404, 'This video has no preview thumbnails')
    const text = await storage.readText(video.sprite.vttKey)
    const sheet = this.signedUrl(session.id, 'thumbnails.jpg')
    return text.replace(/^sprite\.jpg#/gm, `${sheet}#`)
  }

  /** The session's master playlist: its renditions only, every URI signed. */
  async masterPlaylist(session: PlaybackSession, video: Video) {
    const allowed = new Set(this.renditionsOf(session, video).map((r) => r.playlist))
    const text = await storage.readText(hlsKeys.master(video.hlsPrefix))
    return rewritePlaylist(text, 'master.m3u8', (uri) =>
      uri.kind === 'variant' && !allowed.has(uri.path) ? null : this.signedUrl(session.id, uri.path)
    )
  }

  /**
   * A rendition's playlist for the session, every URI signed. A watermarked
   * session gets the just-in-time segments instead of the stored ones (MPEG-TS,
   * so they carry their own codec headers and need no init segment).
   */
  async variantPlaylist(session: PlaybackSession, video: Video, renditionName: string) {
    const rendition = this.renditionsOf(session, video).find((r) => r.name === renditionName)
    if (!rendition) throw new PlaybackError('not_found', 404, 'No such rendition')
    const text = await storage.readText(hlsKeys.file(video.hlsPrefix, rendition.playlist))
    return rewritePlaylist(text, rendition.playlist, (uri) => {
      if (!session.watermarked) return this.signedUrl(session.id, uri.path)
      if (uri.kind === 'map') return null
      const target = parsePlayPath(uri.path)
      if (target?.kind !== 'segment') throw new Error(`Unexpected URI "${uri.path}" in ${rendition.playlist}`)
      return this.signedUrl(session.id, `${rendition.name}/${watermarkedName(target.index)}`)
    })
  }

  /** The stored object a session may fetch for an init or media segment. */
  storedMediaKey(session: PlaybackSession, video: Video, target: PlayTarget) {
    if (session.watermarked || (target.kind !== 'init' && target.kind !== 'segment')) {
      throw new PlaybackError('not_found', 404, 'No such playback resource')
    }
    if (!this.renditionsOf(session, video).some((r) => r.name === target.rendition)) {
      throw new PlaybackError('not_found', 404, 'No such rendition')
    }
    return target.kind === 'init'
      ? hlsKeys.init(video.hlsPrefix, target.rendition, target.file)
      : sessionSegmentKey(session, video, target.rendition, target.index)
  }

  async open(input: { user: User; video: Video | null; deviceId: string; userAgent: string }): Promise<OpenedSession> {
    const { user, deviceId } = input
    // Opening a session is a first play: a rental not started starts its clock here.
    const access = await entitlements.decide(user, input.video, { startRental: true })
    if (!access.allowed) throw new PlaybackError(access.reason, access.status, access.message)
    const video = input.video!
    const { watermarked, forensic } = await decideProtection(video)

    const now = DateTime.now()
    const session = await db.transaction(async (trx) => {
      // One viewer's sessions are opened one at a time, so the limit holds under races.
      await trx.rawQuery('SELECT pg_advisory_xact_lock(?, ?)', [7401, user.id])
      // Reopening a video in the same browser replaces that browser's session.
      await PlaybackSession.query({ client: trx })
        .where({ userId: user.id, videoId: video.id, deviceId })
        .whereNull('revokedAt')
        .update({ revokedAt: now.toSQL(), revokeReason: 'replaced' })
      const open = await PlaybackSession.query({ client: trx })
        .where('userId', user.id)
        .whereNull('revokedAt')
        .where('expiresAt', '>', now.toSQL()!)
        .where('lastSeenAt', '>', now.minus({ seconds: playbackConfig.idleSeconds }).toSQL()!)
        .count('* as total')
      const total = Number(open[0].$extras.total)
      if (total >= playbackConfig.maxSessionsPerViewer) {
        throw new PlaybackError(
          'too_many_sessions',
          429,
          `You are already watching on ${total} screens. Stop one of them to watch here.`
        )
      }
      const id = randomUUID()
      const created = new PlaybackSession()
      created.useTransaction(trx)
      created.merge({
        id,
        userId: user.id,
        videoId: video.id,
        deviceId,
        userAgent: input.userAgent.slice(0, 512),
        watermarked,
        forensic,
        watermarkText: null,
        expiresAt: now.plus({ minutes: playbackConfig.sessionTtlMinutes }),
        lastSeenAt: now,
        accessVia: access.via,
        accessEndsAt: access.endsAt ?? null,
      })
      // Forensic sessions get it too: the player draws it as a deterrent.
      if (watermarked || forensic) {
        created.watermarkText = (
          await plugins.hooks.applyFilters('watermark:text', `@${user.username} · ${created.shortCode}`, {
            sessionId: id,
            userId: user.id,
            username: user.username,
          })
        ).slice(0, 200)
      }
      await created.save()
      return created
    })

    // The session this browser had for the video was replaced (revoked) above.
    await playbackCache.invalidate({ userId: user.id, videoId: video.id })
    await plugins.hooks.doAction('playback:started', { sessionId: session.id, videoId: video.id, userId: user.id })
    return {
      session,
      masterUrl: this.signedUrl(session.id, 'master.m3u8'),
      resumeAt: await this.resumePosition(user, video),
      overlay: session.forensic && !session.watermarked ? playerOverlay(session, video) : null,
      thumbnailsUrl: video.sprite ? this.signedUrl(session.id, 'thumbnails.vtt') : null,
      captions: (await captions.list(video)).map((caption) => ({
        language: caption.language,
        label: caption.label,
        url: this.signedUrl(session.id, `captions/${caption.language}.vtt`),
      })),
    }
  }

  /**
   * Checks one playback request: the path names something we serve, the
   * signature is right and fresh, the logged-in user owns the session, the
   * session is live, and the entitlement chain still says yes.
   */
  async resolve(input: { sessionId: string; path: string; exp: unknown; sig: unknown; user: User | undefined }): Promise<ResolvedRequest> {
    const { sessionId, path, user } = input
    const target = isUuid(sessionId) ? parsePlayPath(path) : null
    if (!target) throw new PlaybackError('not_found', 404, 'No such playback resource')

    const signature = this.signer.check(sessionId, path, input.exp, input.sig)
    if (signature === 'invalid') throw new PlaybackError('bad_signature', 403, 'This playback URL is not valid')
    if (signature === 'expired') throw new PlaybackError('url_expired', 403, 'This playback URL has expired')
    if (!user) throw new PlaybackError('login_required', 401, 'Log in to watch this video')

    const session = await this.#liveSession(sessionId, user)
    const video = await entitlements.authorize(user, await Video.find(session.videoId))

    lastSeen.touch(session)
    return { session, video, target }
  }

  /**
   * A fresh URL for a path of a live session (the player asks before its
   * URLs expire). Also keeps the session itself alive.
   */
  async renew(input: { sessionId: string; path: string; user: User }) {
    if (!parsePlayPath(input.path)) throw new PlaybackError('not_found', 404, 'No such playback resource')
    const session = await this.#liveSession(input.sessionId, input.user)
    await entitlements.authorize(input.user, await Video.find(session.videoId))
    const now = DateTime.now()
    await PlaybackSession.query()
      .where('id', session.id)
      .update({ expiresAt: now.plus({ minutes: playbackConfig.sessionTtlMinutes }).toSQL(), lastSeenAt: now.toSQL() })
    return { url: this.signedUrl(session.id, input.path) }
  }

  async #liveSession(sessionId: string, user: User) {
    const session = isUuid(sessionId) ? await PlaybackSession.find(sessionId) : null
    if (!session) throw new PlaybackError('not_found', 404, 'No such playback session')
    if (session.userId !== user.id) throw new PlaybackError('not_your_session', 403, 'This playback session belongs to someone else')
    if (session.isRevoked) throw new PlaybackError('session_revoked', 403, 'This playback session was ended')
    if (session.isExpired) throw new PlaybackError('session_expired', 410, 'This playback session has expired')
    if (session.accessHasEnded) await this.#recheckAccess(session, user)
    return session
  }

  /**
   * The rental, pass or membership that opened a session ran out: if the
   * viewer still may watch (they bought it since, a membership renewed) the
   * session goes on with its new window; otherwise it ends, the player is
   * told why, and this request is refused.
   */
  async #recheckAccess(session: PlaybackSession, user: User) {
    const access = await entitlements.decide(user, await Video.find(session.videoId))
    if (access.allowed) {
      session.merge({ accessVia: access.via, accessEndsAt: access.endsAt ?? null })
      await PlaybackSession.query().where('id', session.id).update({ accessVia: access.via, accessEndsAt: access.endsAt?.toSQL() ?? null })
      return
    }
    const ended = accessEndedReason(session.accessVia)
    await this.revoke({ sessionId: session.id }, ended.reason)
    throw new PlaybackError(ended.reason, 403, ended.message)
  }

  /** Sessions whose access ran out while nobody asked (a paused player): ended, and their players told (a worker chore). */
  async endRunOutAccess(limit = 500) {
    const due = await PlaybackSession.query()
      .whereNull('revokedAt')
      .where('expiresAt', '>', DateTime.now().toSQL()!)
      .where('accessEndsAt', '<=', DateTime.now().toSQL()!)
      .preload('user')
      .limit(limit)
    for (const session of due) {
      try {
        await this.#recheckAccess(session, session.user)
      } catch (error) {
        if (!(error instanceof PlaybackError)) throw error
      }
    }
    return due.length
  }

  /** Ends sessions at once: their URLs stop working on the next request. */
  async revoke(scope: { sessionId?: string; userId?: number; videoId?: string; deviceId?: string }, reason: RevokeReason) {
    if (!scope.sessionId && scope.userId === undefined && !scope.videoId) throw new Error('revoke needs a scope')
    const query = PlaybackSession.query().whereNull('revokedAt')
    if (scope.sessionId) query.where('id', scope.sessionId)
    if (scope.userId !== undefined) query.where('userId', scope.userId)
    if (scope.videoId) query.where('videoId', scope.videoId)
    if (scope.deviceId) query.where('deviceId', scope.deviceId)
    const revoked: Array<{ id: string }> = await query.update({ revokedAt: DateTime.now().toSQL(), revokeReason: reason }).returning('id')
    // Every web node drops them from memory: their next request is refused.
    await playbackCache.invalidate({ sessionIds: revoked.map((row) => row.id) })
    broadcastPlaybackStopped(revoked.map((row) => row.id), reason)
  }

  /** Where the viewer stopped watching this video last time (seconds). */
  async resumePosition(user: User, video: Video) {
    const row = await db.from('watch_positions').where({ user_id: user.id, video_id: video.id }).first()
    if (!row) return 0
    const position = Number(row.position_seconds)
    // Watched to (nearly) the end: start again from the beginning.
    const duration = video.durationSeconds ?? 0
    return duration && position >= duration - Math.min(10, duration * 0.1) ? 0 : position
  }

  async savePosition(input: { sessionId: string; user: User; seconds: number }) {
    const session = await this.#liveSession(input.sessionId, input.user)
    const video = await Video.find(session.videoId)
    const seconds = Math.max(0, Math.min(input.seconds, video?.durationSeconds ?? input.seconds))
    await db.rawQuery(
      `INSERT INTO watch_positions (user_id, video_id, position_seconds, updated_at) VALUES (?, ?, ?, now())
       ON CONFLICT (user_id, video_id) DO UPDATE SET position_seconds = EXCLUDED.position_seconds, updated_at = now()`,
      [input.user.id, session.videoId, seconds]
    )
  }

  /**
   * Deletes the just-in-time renders of sessions that ended (revoked or
   * expired) at least a minute ago; the minute lets a render in flight land
   * before its folder is removed.
   */
  async purgeEnded(limit = 200) {
    const cutoff = DateTime.now().minus({ minutes: 1 }).toSQL()!
    const ended = await PlaybackSession.query()
      .where('watermarked', true)
      .whereNull('mediaPurgedAt')
      .where((q) => q.where('expiresAt', '<', cutoff).orWhere('revokedAt', '<', cutoff))
      .limit(limit)
    for (const session of ended) {
      await storage.delete(session.storagePrefix)
      await PlaybackSession.query().where('id', session.id).update({ mediaPurgedAt: DateTime.now().toSQL() })
    }
    return ended.length
  }

  /**
   * A video is being deleted in `trx`: its sessions go with it. Returns the
   * sessions whose players must be told after the commit, and the storage
   * prefixes of their renders (deleted after the commit).
   */
  async forgetVideo(videoId: string, trx: TransactionClientContract) {
    const sessions = await PlaybackSession.query({ client: trx }).where('videoId', videoId)
    await PlaybackSession.query({ client: trx }).where('videoId', videoId).delete()
    return {
      open: sessions.filter((session) => !session.revokedAt).map((session) => session.id),
      renderPrefixes: sessions.filter((session) => session.watermarked && !session.mediaPurgedAt).map((session) => session.storagePrefix),
    }
  }
}

const playback = new PlaybackService()
export default playback
