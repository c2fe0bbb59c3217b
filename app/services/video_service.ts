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
import { isServiceOutage } from '#exceptions/service_unavailable'
import logger from '@adonisjs/core/services/logger'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import Order from '#models/order'
import storageCleanup from '#services/media/storage_cleanup'
import { customPosterKey } from '#services/media/storage_keys'
import { broadcastPlaybackStopped } from '#services/video_events'

export interface VideoDetails {
  title: string
  description?: string | null
  currency: string
  price: string
  visibility: 'draft' | 'published'
  watermark?: 'auto' | 'off' | 'visible' | 'forensic' | 'both' | 'on'
}

/**
 * The columns a protection choice of the form sets: the mode, and the switch
 * from before modes existed kept in agreement (auto clears both, so the
 * instance default or the price decides).
 */
function watermarkColumns(choice: NonNullable<VideoDetails['watermark']>) {
  if (choice === 'auto') return { watermarkMode: null, watermarkEnabled: null }
  const mode = choice === 'on' ? 'visible' : choice
  return { watermarkMode: mode, watermarkEnabled: mode !== 'off' }
}

/** Orders that ended without money: the only ones deleted with their video. */
const ABANDONED_ORDER_STATES: ReadonlySet<string> = new Set(['expired', 'failed'])

export type RemovalOutcome =
  | { kind: 'deleted'; prefixes: string[] }
  /** `holders`: buyers who own it; `openCheckouts`: payments that may still arrive. */
  | { kind: 'archived'; wasArchived: boolean; holders: number; openCheckouts: number }

/**
 * Video rules outside transcoding: creating a video from a finished upload,
 * editing, deleting or archiving, takedowns (the catalog: catalog_service).
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
      // A half-written master: the row goes first, then its files (retried if the storage fails again).
      await db.transaction(async (trx) => {
        await video.useTransaction(trx).delete()
        await storageCleanup.schedule([video.storagePrefix], trx)
      })
      await storageCleanup.run([video.storagePrefix])
      throw error
    }
    await plugins.hooks.doAction('video:uploaded', { videoId: video.id, ownerId: owner.id })
    await transcoder.enqueue(video).catch((error) => {
      // Redis is down: the upload is kept, and the worker's reconciler
      // queues it from PostgreSQL once Redis is back.
      if (!isServiceOutage(error)) throw error
      logger.warn({ videoId: video.id }, `upload kept; its transcode is queued when Redis is back (${error.message})`)
    })
    return video
  }

  async update(video: Video, details: VideoDetails) {
    video.merge(this.#columns(details))
    await video.save()
    return video
  }

  async replacePoster(video: Video, file: { path: string; extname: string }) {
    const key = customPosterKey(video.id, file.extname === 'png' ? 'png' : file.extname === 'webp' ? 'webp' : 'jpg')
    await storage.put(key, createReadStream(file.path))
    const previous = video.customPoster ? video.posterKey : null
    video.merge({ posterKey: key, customPoster: true })
    await video.save()
    if (previous && previous !== key) await storage.delete(previous)
  }

  /**
   * A creator or an admin (no actor: scripts and benches) deletes a video.
   * What someone paid for is never destroyed: a video with an order that
   * holds money or may still be paid
   * (see `#mustKeep`) is archived instead — out of the catalog, no longer for
   * sale, still played by whoever holds it, files kept. Otherwise the row
   * goes, with its abandoned checkouts, allowlist, sessions and watch
   * positions, in one transaction that also records the storage prefixes to
   * delete; the files are deleted after the commit, and a deletion that fails
   * is retried by a worker chore (`storage_cleanup`). Audited either way.
   */
  async destroy(video: Video, actor: User | null = null): Promise<RemovalOutcome> {
    const who = actor?.username ?? 'The system'
    let stopped: string[] = []
    const outcome = await db.transaction(async (trx): Promise<RemovalOutcome> => {
      // Locked first: a checkout inserting an order for it waits for us, or we for it.
      const row = await Video.query({ client: trx }).where('id', video.id).forUpdate().first()
      if (!row) return { kind: 'deleted', prefixes: [] }
      const orders = await Order.query({ client: trx }).where('videoId', row.id).forUpdate()
      // A bundle that holds it, bought or being paid for: its buyers hold this video too (their grants name it).
      const bundleOrders = await Order.query({ client: trx })
        .whereIn('offerId', trx.from('offer_videos').where('video_id', row.id).select('offer_id'))
        .where('offerScope', 'bundle')
        .whereIn('status', ['paid', 'disputed', 'pending'])
        .forUpdate()
      const kept = [...(await this.#mustKeep(trx, orders)), ...bundleOrders]
      if (kept.length) {
        const outcome: RemovalOutcome = {
          kind: 'archived',
          wasArchived: row.isArchived,
          holders: new Set(kept.filter((order) => order.status === 'paid').map((order) => order.buyerId)).size,
          openCheckouts: kept.filter((order) => order.status === 'pending').length,
        }
        if (row.isArchived) return outcome
        row.archivedAt = DateTime.now()
        await row.useTransaction(trx).save()
        await audit.record(
          { actor, action: 'video.archive', subjectType: 'video', subjectId: row.id, targetUserId: row.ownerId, before: { archived: false }, after: { archived: true, keptOrders: kept.length }, summary: `${who} deleted "${row.title}", which was archived instead: ${kept.length} order(s) paid or open` },
          trx
        )
        return outcome
      }
      const sessions = await playback.forgetVideo(row.id, trx)
      stopped = sessions.open
      const prefixes = [row.storagePrefix, ...sessions.renderPrefixes]
      await storageCleanup.schedule(prefixes, trx)
      // Abandoned checkouts only (no money ever moved); the events that touched them stay in payment_events.
      if (orders.length) await Order.query({ client: trx }).whereIn('id', orders.map((order) => order.id)).delete()
      await row.useTransaction(trx).delete()
      await audit.record(
        { actor, action: 'video.delete', subjectType: 'video', subjectId: row.id, targetUserId: row.ownerId, before: { title: row.title, status: row.status, abandonedOrders: orders.length }, after: null, summary: `${who} deleted "${row.title}" with its files` },
        trx
      )
      return { kind: 'deleted', prefixes }
    })
    if (outcome.kind === 'archived') {
      await video.refresh()
      return outcome
    }
    broadcastPlaybackStopped(stopped, 'ended')
    await storageCleanup.run(outcome.prefixes)
    return outcome
  }

  /**
   * The orders that forbid deleting their video: every order except
   * checkouts that ended without money (expired or failed, never paid, no
   * ledger line, no payment refused or waiting on it). A pending checkout
   * counts: its payment may still arrive.
   */
  async #mustKeep(trx: TransactionClientContract, orders: Order[]) {
    const abandoned = orders.filter((order) => ABANDONED_ORDER_STATES.has(order.status) && !order.paidAt)
    const ids = abandoned.map((order) => order.id)
    const touched = new Set<string>()
    if (ids.length) {
      const withLedger = await trx.from('ledger_entries').whereIn('order_id', ids).distinct('order_id')
      const withMoneyEvents = await trx.from('payment_events').whereIn('order_id', ids).whereIn('outcome', ['rejected', 'deferred']).distinct('order_id')
      for (const row of [...withLedger, ...withMoneyEvents]) touched.add(row.order_id)
    }
    return orders.filter((order) => !abandoned.includes(order) || touched.has(order.id))
  }

  /** The creator puts an archived video back in the catalog and on sale. */
  async unarchive(actor: User, video: Video) {
    if (!video.isArchived) throw new RefusedActionError('not_archived', 409, `"${video.title}" is not archived`)
    await db.transaction(async (trx) => {
      video.archivedAt = null
      await video.useTransaction(trx).save()
      await audit.record(
        { actor, action: 'video.unarchive', subjectType: 'video', subjectId: video.id, targetUserId: video.ownerId, before: { archived: true }, after: { archived: false }, summary: `${actor.username} put "${video.title}" back on sale` },
        trx
      )
    })
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
    else if (status === 'archived') query.whereNotNull('archivedAt')
    else if (status) query.where('status', status)
    return query.paginate(page, 50)
  }

  ownedBy(user: User) {
    return Video.query().where('ownerId', user.id).orderBy('createdAt', 'desc')
  }

  /** Status and transcode progress of some of `user`'s videos (others' ids are left out). */
  async progressOf(user: User, ids: string[]) {
    if (!ids.length) return []
    const rows = await Video.query().where('ownerId', user.id).whereIn('id', ids).select('id', 'status', 'progress', 'lastError')
    return rows.map((video) => ({ id: video.id, status: video.status, progress: video.progress, lastError: video.lastError }))
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
      ...(details.watermark ? watermarkColumns(details.watermark) : {}),
    }
  }
}

const videos = new VideoService()
export default videos
