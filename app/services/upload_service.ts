import { createWriteStream } from 'node:fs'
import { mkdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Server, type Upload } from '@tus/server'
import { FileStore } from '@tus/file-store'
import type { StorageBackend, UploadStore } from '#hooks/contracts'
import { fileTypeFromFile } from 'file-type'
import { errors as vineErrors } from '@vinejs/vine'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import { HttpContext } from '@adonisjs/core/http'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import mediaConfig from '#config/media'
import StagedUpload from '#models/staged_upload'
import storage from '#services/storage_service'
import videos from '#services/video_service'
import { videoDetailsValidator } from '#validators/video'
import { probe } from '#services/media/probe'
import { MediaRejectedError } from '#services/media/ffmpeg'
import { assertWithinLimits } from '#services/media/limits'
import { RedisLocker } from '#services/uploads/redis_locker'
import { RedisKvStore } from '#services/uploads/redis_kv_store'

/** A refusal tus sends back as-is: the page shows `body` to the creator. */
const refuse = (status: number, message: string) => ({ status_code: status, body: message })

const gigabytes = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(bytes < 1024 ** 3 ? 2 : 1)} GB`

/** The id of an upload in URLs: random hex, nothing else (no path, no prefix). */
const PUBLIC_ID = /^[0-9a-f]{32}$/

/** Where uploads of the current storage backend wait, and the tus server over it. */
interface Staging {
  datastore: UploadStore['datastore']
  /** Prefixed to the public id inside the store. */
  idPrefix: string
  /** The shared upload folder: a complete upload is a file there, read in place. */
  folder: string | null
  server: Server
}

/**
 * Resumable uploads (tus), on any web node. Bytes wait in an upload store
 * every node reaches: the storage backend's own (S3 multipart uploads, from
 * plugins/storage-s3) or else the shared upload folder (UPLOAD_TMP_DIR, which
 * must be one folder for all web nodes when there are several). A Redis lock
 * per upload keeps two nodes from writing one upload at once, and a
 * `staged_uploads` row per upload holds its owner, size and last write, so
 * any node checks ownership and the per-creator quota. Once complete, the
 * file is checked (extension, sniffed content, ffprobe) and streamed to
 * storage. A refused or abandoned upload leaves nothing behind.
 */
export class UploadService {
  readonly directory = app.makePath(mediaConfig.uploadDir)
  readonly locker = new RedisLocker()
  readonly expiryMs = mediaConfig.uploadExpiryHours * 3600_000
  /** By storage backend: tests (and a reconfigured app) switch backends. */
  #stagings = new WeakMap<StorageBackend, Staging>()

  /** The tus server of the current storage backend. */
  get server() {
    return this.staging.server
  }

  get datastore() {
    return this.staging.datastore
  }

  get staging(): Staging {
    const backend = storage.backend
    let staging = this.#stagings.get(backend)
    if (!staging) {
      staging = this.#createStaging(backend.uploadStore?.({
        expirationPeriodInMilliseconds: this.expiryMs,
        cache: new RedisKvStore(`matinee:tus-meta:${backend.id}:`, this.expiryMs),
      }))
      this.#stagings.set(backend, staging)
    }
    return staging
  }

  #createStaging(own?: UploadStore): Staging {
    const datastore =
      own?.datastore ?? new FileStore({ directory: this.directory, expirationPeriodInMilliseconds: this.expiryMs })
    const idPrefix = own ? (own.idPrefix ?? '') : ''
    const server = new Server({
      path: '/studio/uploads',
      datastore,
      locker: this.locker,
      relativeLocation: true,
      maxSize: mediaConfig.maxUploadBytes,
      namingFunction: () => idPrefix + randomUUID().replace(/-/g, ''),
      // URLs carry the bare hex id; the store's key prefix never leaves the server.
      generateUrl: (_req, { path, id }) => `${path}/${id.slice(idPrefix.length)}`,
      getFileIdFromRequest: (_req, lastPath) => (lastPath && PUBLIC_ID.test(lastPath) ? idPrefix + lastPath : undefined),
      onIncomingRequest: async (req, uploadId) => this.#checkOwner(uploadId, req.method),
      onUploadCreate: async (_req, upload) => ({ metadata: await this.#checkNewUpload(upload) }),
      onUploadFinish: async (_req, upload) => this.#finish(upload),
      onResponseError: async (_req, error) => {
        const status = (error as any).status_code
        if (status === 413) {
          return refuse(413, `This file is larger than the ${gigabytes(mediaConfig.maxUploadBytes)} limit.`)
        }
        return undefined
      },
    })
    return { datastore, idPrefix, folder: own ? null : this.directory, server }
  }

  #user() {
    const user = HttpContext.getOrFail().auth.user
    if (!user) throw refuse(401, 'Log in to upload.')
    return user
  }

  /**
   * Only the creator who started an upload may continue, inspect or cancel
   * it; a chunk (PATCH) counts as activity for the quota and the expiry.
   */
  async #checkOwner(uploadId: string, method: string) {
    if (!uploadId) return
    const user = this.#user()
    const row = await db
      .from('staged_uploads')
      .where('id', uploadId)
      .if(method === 'PATCH', (query) => query.update({ last_write_at: new Date() }, ['owner_id']))
      .if(method !== 'PATCH', (query) => query.select('owner_id'))
    const ownerId = row[0]?.owner_id
    if (ownerId !== undefined && String(ownerId) !== String(user.id)) throw refuse(403, 'This upload belongs to someone else.')
  }

  async #checkNewUpload(upload: Upload) {
    const user = this.#user()
    const metadata = upload.metadata ?? {}
    const filename = String(metadata.filename ?? '').trim()
    if (upload.sizeIsDeferred || upload.size === undefined) throw refuse(400, 'The upload must declare its size.')
    if (upload.size === 0) throw refuse(400, 'The file is empty.')
    await this.#checkQuota(String(user.id), upload.size)
    const extension = extname(filename).slice(1).toLowerCase()
    if (!mediaConfig.allowedExtensions.includes(extension)) {
      throw refuse(415, `Files ending in "${extension ? '.' + extension : filename || 'nothing'}" are not accepted. Upload one of: ${mediaConfig.allowedExtensions.map((e) => '.' + e).join(' ')}.`)
    }
    try {
      await detailsFrom(metadata)
    } catch (error) {
      if (error instanceof vineErrors.E_VALIDATION_ERROR) {
        const messages = (error.messages as Array<{ field: string; message: string }>).map((m) => m.message)
        throw refuse(422, messages.join(' '))
      }
      throw error
    }
    const now = DateTime.now()
    await StagedUpload.create({ id: upload.id, ownerId: user.id, size: upload.size, lastWriteAt: now, createdAt: now })
    return { ...metadata, filename, ownerId: String(user.id) }
  }

  /**
   * A creator's share of the upload store (all web nodes): so many uploads in
   * progress at once, so many bytes (declared sizes) held by unfinished ones.
   */
  async #checkQuota(ownerId: string, size: number) {
    const { maxActiveUploads, maxStagedBytes, activeMinutes } = mediaConfig.uploadQuota
    const unfinished = await this.unfinishedUploads(ownerId)
    const since = Date.now() - activeMinutes * 60_000
    const active = unfinished.filter((upload) => upload.lastWriteAt >= since).length
    if (active >= maxActiveUploads) {
      throw refuse(
        429,
        `You already have ${active} uploads in progress, the most at once. Let one finish (or wait ${activeMinutes} minutes after stopping one) before starting another.`
      )
    }
    const staged = unfinished.reduce((sum, upload) => sum + upload.size, 0)
    if (staged + size > maxStagedBytes) {
      throw refuse(
        429,
        `Your unfinished uploads hold ${gigabytes(staged)}; with this ${gigabytes(size)} file that would pass the ${gigabytes(maxStagedBytes)} ` +
          `limit per creator. Finish those uploads first (unfinished ones are deleted after ${mediaConfig.uploadExpiryHours} h).`
      )
    }
  }

  /** A creator's unfinished uploads: declared size and last write (of any web node). */
  async unfinishedUploads(ownerId: string) {
    const rows = await StagedUpload.query().where('owner_id', Number(ownerId))
    return rows.map((row) => ({ id: row.id, size: Number(row.size), lastWriteAt: row.lastWriteAt.toMillis() }))
  }

  async #finish(upload: Upload) {
    const user = this.#user()
    const staging = this.staging
    // In the shared folder, a complete upload is a file already; from any
    // other store it is copied once to this node's temporary folder, since
    // ffprobe needs to seek in it (removed right after, whatever happens).
    const path = staging.folder ? join(staging.folder, upload.id) : join(tmpdir(), `matinee-upload-${randomUUID()}`)
    try {
      if (!staging.folder) {
        await mkdir(tmpdir(), { recursive: true })
        await pipeline(await staging.datastore.read(upload.id), createWriteStream(path))
      }
      const sniffed = await fileTypeFromFile(path)
      if (!sniffed || !(sniffed.mime.startsWith('video/') || sniffed.mime === 'application/x-matroska')) {
        throw new MediaRejectedError(
          sniffed ? `This file is ${sniffed.mime}, not a video.` : 'This file is not a video (its content is not a known video format).'
        )
      }
      assertWithinLimits(await probe(path))
      const metadata = upload.metadata ?? {}
      const details = await detailsFrom(metadata)
      const video = await videos.createFromUpload(user, details, {
        path,
        filename: String(metadata.filename),
        size: upload.size ?? 0,
      })
      return {
        status_code: 200,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ videoId: video.id, url: `/studio/videos/${video.id}/edit` }),
      }
    } catch (error) {
      if (error instanceof MediaRejectedError) throw refuse(422, error.message)
      logger.error({ err: error, uploadId: upload.id }, 'could not accept a finished upload')
      throw refuse(500, 'The upload arrived but could not be stored. Try again.')
    } finally {
      if (!staging.folder) await rm(path, { force: true })
      await this.#discard(staging, upload.id)
    }
  }

  async #discard(staging: Staging, uploadId: string) {
    await staging.datastore.remove(uploadId).catch(() => {})
    if (staging.folder) {
      await rm(join(staging.folder, uploadId), { force: true })
      await rm(join(staging.folder, `${uploadId}.json`), { force: true })
    }
    await StagedUpload.query().where('id', uploadId).delete()
  }

  /**
   * Deletes unfinished uploads with no chunk for longer than the expiry (any
   * node's), then what the shared folder's store finds expired by itself
   * (uploads started before their rows existed); returns how many.
   */
  async cleanUpExpired() {
    const staging = this.staging
    const stale = await StagedUpload.query().where('last_write_at', '<', DateTime.now().minus({ milliseconds: this.expiryMs }).toJSDate())
    for (const row of stale) await this.#discard(staging, row.id)
    if (!staging.folder) return stale.length
    const expired = await staging.server.cleanUpExpiredUploads()
    // Rows of uploads the folder's store deleted by itself go too.
    // (Not rows of a minute or less: their file may be being created.)
    for (const row of await StagedUpload.query().where('created_at', '<', DateTime.now().minus({ minutes: 1 }).toJSDate())) {
      if (!(await stat(join(staging.folder, row.id)).catch(() => null))) await row.delete()
    }
    return stale.length + expired
  }
}

const uploads = new UploadService()
export default uploads

/** The video details a tus upload carries in its metadata, validated like the form. */
function detailsFrom(metadata: Record<string, string | null | undefined>) {
  return videoDetailsValidator.validate({
    title: metadata.title ?? '',
    description: metadata.description ?? undefined,
    currency: metadata.currency ?? 'USD',
    price: metadata.price ?? '0',
    visibility: metadata.visibility ?? 'draft',
    watermark: metadata.watermark ?? undefined,
  })
}
