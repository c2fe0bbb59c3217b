import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { extname } from 'node:path'
import { Exception } from '@adonisjs/core/exceptions'
import type User from '#models/user'
import Video from '#models/video'
import storage from '#services/storage_service'
import transcoder from '#services/transcode_service'
import plugins from '#services/plugins'
import { toMinorUnits } from '#services/money'
import { isUuid } from '#services/ids'
import playback from '#services/playback_service'
import audit from '#services/audit_service'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { RefusedActionError } from '#exceptions/refused_action_error'

export interface VideoDetails {
  title: string
  description?: string | null
  currency: string
  price: string
  visibility: 'draft' | 'published'
  watermark?: 'auto' | 'on' | 'off'
}

const PAGE_SIZE = 12

/**
 * Video rules outside transcoding: creating a video from a finished upload,
 * editing, deleting (with every stored object), and the catalog.
 */
export class VideoService {
  /**
   * The row is written first (status `uploaded`), then the master is
   * streamed to storage, then the transcode is queued. A crash between
   * steps leaves a row the reconciler finishes or fails — never an object
   * nobody knows about.
   */
  async createFromUpload(owner: User, details: VideoDetails, file: { path: string; filename: string; size: number }) {
    const id = randomUUID()
    const extension = extname(file.filename).toLowerCase().replace(/[^a-z0-9.]/g, '') || '.bin'
    const video = await Video.create({
      id,
      ownerId: owner.id,
      ...this.#columns(details),
      status: 'uploaded',
      sourceKey: `videos/${id}/source/master${extension}`,
      sourceFilename: file.filename.slice(0, 255),
      sourceSize: file.size,
    })
    try {
      await storage.put(video.sourceKey, createReadStream(file.path), { size: file.size })
    } catch (error) {
      await storage.delete(video.storagePrefix).catch(() => {})
      await video.delete()
      throw error
    }
    await plugins.hooks.doAction('video:uploaded', { videoId: video.id, ownerId: owner.id })
    await transcoder.enqueue(video)
    return video
  }

  async update(video: Video, details: VideoDetails) {
    video.merge(this.#columns(details))
    await video.save()
    return video
  }

  async replacePoster(video: Video, file: { path: string; extname: string }) {
    const key = `${video.storagePrefix}poster-custom.${file.extname === 'png' ? 'png' : file.extname === 'webp' ? 'webp' : 'jpg'}`
    await storage.put(key, createReadStream(file.path))
    const previous = video.customPoster ? video.posterKey : null
    video.merge({ posterKey: key, customPoster: true })
    await video.save()
    if (previous && previous !== key) await storage.delete(previous)
  }

  /** Deletes the row and every object under the video's prefix (and its sessions' renders). */
  async destroy(video: Video) {
    await playback.forgetVideo(video)
    await storage.delete(video.storagePrefix)
    await video.delete()
  }

  /**
   * An admin takes a video down: it leaves the catalog and every open
   * playback session stops at once. The creator sees the reason. Audited.
   */
  async takeDown(actor: User, video: Video, reason: string) {
    if (video.isTakenDown) throw new RefusedActionError('already_taken_down', 409, `"${video.title}" is already taken down`)
    await db.transaction(async (trx) => {
      video.merge({ takenDownAt: DateTime.now(), takedownReason: reason })
      await video.useTransaction(trx).save()
      await audit.record(
        { actor, action: 'video.takedown', subjectType: 'video', subjectId: video.id, targetUserId: video.ownerId, before: { takenDown: false }, after: { takenDown: true, reason }, summary: `${actor.username} took down "${video.title}": ${reason}` },
        trx
      )
    })
    await playback.revoke({ videoId: video.id }, 'takedown')
  }

  async restore(actor: User, video: Video) {
    if (!video.isTakenDown) throw new RefusedActionError('not_taken_down', 409, `"${video.title}" is not taken down`)
    const before = { takenDown: true, reason: video.takedownReason }
    await db.transaction(async (trx) => {
      video.merge({ takenDownAt: null, takedownReason: null })
      await video.useTransaction(trx).save()
      await audit.record(
        { actor, action: 'video.restore', subjectType: 'video', subjectId: video.id, targetUserId: video.ownerId, before, after: { takenDown: false }, summary: `${actor.username} restored "${video.title}"` },
        trx
      )
    })
  }

  /**
   * A failed transcode gets a fresh set of attempts; false when the video has
   * not failed. An admin's retry of someone else's video is audited (it
   * spends the instance's CPU on their behalf).
   */
  async retryTranscode(actor: User, video: Video) {
    const before = { status: video.status, lastError: video.lastError }
    if (!(await transcoder.retry(video))) return false
    if (actor.id !== video.ownerId) {
      await audit.record({
        actor,
        action: 'video.retry',
        subjectType: 'video',
        subjectId: video.id,
        targetUserId: video.ownerId,
        before,
        after: { status: video.status },
        summary: `${actor.username} retried the transcode of "${video.title}"`,
      })
    }
    return true
  }

  /** Admin → Videos: every video, newest first; `q` matches the title or the owner's username. */
  adminList({ q, status, page }: { q?: string; status?: string; page: number }) {
    const query = Video.query().preload('owner').orderBy('createdAt', 'desc')
    if (q) {
      const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      query.where((inner) => inner.whereILike('title', pattern).orWhereHas('owner', (owner) => owner.whereILike('username', pattern)))
    }
    if (status === 'taken_down') query.whereNotNull('takenDownAt')
    else if (status) query.where('status', status)
    return query.paginate(page, 50)
  }

  catalog({ search, page }: { search?: string; page: number }) {
    const query = Video.query()
      .where('status', 'ready')
      .where('visibility', 'published')
      .whereNull('takenDownAt')
      .preload('owner')
      .orderBy('readyAt', 'desc')
      .orderBy('id')
    const needle = search?.trim()
    if (needle) {
      const like = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      query.where((q) => q.whereILike('title', like).orWhereILike('description', like))
    }
    return query.paginate(Math.max(1, page), PAGE_SIZE)
  }

  ownedBy(user: User) {
    return Video.query().where('ownerId', user.id).orderBy('createdAt', 'desc')
  }

  /**
   * The video if `user` may see it (or manage it, with `manage`); anything
   * else, including a malformed id, is a 404 that tells nothing more.
   */
  async findOrFail(id: string, user: User | undefined, { manage = false } = {}) {
    const video = isUuid(id) ? await Video.find(id) : null
    if (!video || !(manage ? this.canManage(user, video) : this.canView(user, video))) {
      throw new Exception('There is no such video', { status: 404, code: 'E_VIDEO_NOT_FOUND' })
    }
    return video
  }

  /** Who may see a video's page and poster before it is public. */
  canManage(user: User | undefined, video: Video) {
    return !!user && (user.isAdmin || user.id === video.ownerId)
  }

  canView(user: User | undefined, video: Video) {
    return video.isPublic || this.canManage(user, video)
  }

  #columns(details: VideoDetails) {
    return {
      title: details.title,
      description: details.description ?? '',
      currency: details.currency,
      priceMinor: toMinorUnits(details.price, details.currency)!,
      visibility: details.visibility,
      ...(details.watermark ? { watermarkEnabled: details.watermark === 'auto' ? null : details.watermark === 'on' } : {}),
    }
  }
}

const videos = new VideoService()
export default videos
