import { rm, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { Server, type Upload } from '@tus/server'
import { FileStore } from '@tus/file-store'
import { fileTypeFromFile } from 'file-type'
import { errors as vineErrors } from '@vinejs/vine'
import app from '@adonisjs/core/services/app'
import { HttpContext } from '@adonisjs/core/http'
import logger from '@adonisjs/core/services/logger'
import mediaConfig from '#config/media'
import videos from '#services/video_service'
import { videoDetailsValidator } from '#validators/video'
import { probe } from '#services/media/probe'
import { MediaRejectedError } from '#services/media/ffmpeg'
import { assertWithinLimits } from '#services/media/limits'

/** A refusal tus sends back as-is: the page shows `body` to the creator. */
const refuse = (status: number, message: string) => ({ status_code: status, body: message })

const gigabytes = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(bytes < 1024 ** 3 ? 2 : 1)} GB`

/**
 * Resumable uploads (tus). Bytes are streamed to the web node's disk, so an
 * interrupted upload resumes where it stopped; once complete, the file is
 * checked (extension, sniffed content, ffprobe) and streamed to storage. A
 * refused or abandoned upload leaves nothing behind.
 */
export class UploadService {
  readonly directory = app.makePath(mediaConfig.uploadDir)
  readonly datastore = new FileStore({
    directory: this.directory,
    expirationPeriodInMilliseconds: mediaConfig.uploadExpiryHours * 3600_000,
  })

  readonly server = new Server({
    path: '/studio/uploads',
    datastore: this.datastore,
    relativeLocation: true,
    maxSize: mediaConfig.maxUploadBytes,
    namingFunction: () => randomUUID().replace(/-/g, ''),
    onIncomingRequest: async (_req, uploadId) => this.#checkOwner(uploadId),
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

  #user() {
    const user = HttpContext.getOrFail().auth.user
    if (!user) throw refuse(401, 'Log in to upload.')
    return user
  }

  /** Only the creator who started an upload may continue, inspect or cancel it. */
  async #checkOwner(uploadId: string) {
    if (!uploadId) return
    const user = this.#user()
    const upload = await this.datastore.getUpload(uploadId).catch(() => null)
    if (upload && upload.metadata?.ownerId !== String(user.id)) throw refuse(403, 'This upload belongs to someone else.')
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
    return { ...metadata, filename, ownerId: String(user.id) }
  }

  /**
   * A creator's share of this node's staging disk: so many uploads in
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

  /** A creator's unfinished uploads on this node: declared size and last write. */
  async unfinishedUploads(ownerId: string) {
    const found: Array<{ id: string; size: number; lastWriteAt: number }> = []
    for (const id of await this.datastore.configstore.list!().catch(() => [] as string[])) {
      const upload = await this.datastore.configstore.get(id)
      if (upload?.metadata?.ownerId !== ownerId) continue
      const written = await stat(join(this.directory, id)).catch(() => null)
      if (!written) continue
      found.push({ id, size: upload.size ?? 0, lastWriteAt: written.mtimeMs })
    }
    return found
  }

  async #finish(upload: Upload) {
    const user = this.#user()
    const path = join(this.directory, upload.id)
    try {
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
      await this.#discard(upload.id)
    }
  }

  async #discard(uploadId: string) {
    await this.datastore.remove(uploadId).catch(() => {})
    await rm(join(this.directory, uploadId), { force: true })
    await rm(join(this.directory, `${uploadId}.json`), { force: true })
  }

  /** Deletes unfinished uploads older than the expiry; returns how many. */
  async cleanUpExpired() {
    return this.server.cleanUpExpiredUploads()
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
