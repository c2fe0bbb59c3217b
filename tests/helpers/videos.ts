import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import User from '#models/user'
import transcoder from '#services/transcode_service'
import { media } from '#tests/helpers/media_fixtures'
import app from '@adonisjs/core/services/app'
import mediaConfig from '#config/media'
import Video, { type VideoStatus, type WatermarkMode } from '#models/video'
import storage from '#services/storage_service'
import { WebClient } from '#tests/helpers/web_client'

/** Polls the database until the video reaches one of `statuses`. */
export async function waitForStatus(id: string, statuses: VideoStatus[], timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs
  let video: Video | null = null
  while (Date.now() < deadline) {
    video = await Video.find(id)
    if (video && statuses.includes(video.status)) return video
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`video ${id} is ${video?.status ?? 'gone'} after ${timeoutMs} ms (waited for ${statuses.join('/')}); last error: ${video?.lastError}`)
}

/** Every stored key under a prefix (default: everything). */
export async function storedKeys(prefix = 'videos/') {
  const keys: string[] = []
  for await (const object of storage.list(prefix)) keys.push(object.key)
  return keys.sort()
}

export async function readStored(key: string) {
  const object = await storage.get(key)
  const chunks: Buffer[] = []
  for await (const chunk of object.body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Files tus still holds for unfinished uploads. */
export async function stagedUploads() {
  return readdir(app.makePath(mediaConfig.uploadDir)).catch(() => [] as string[])
}

export async function creatorClient(name = 'maker') {
  const client = new WebClient()
  await client.register(name, `${name}@example.com`)
  const response = await client.submit('/account', '/account/creator-application', {})
  if (response.location !== '/studio/videos') throw new Error(`could not become a creator: ${response.location}`)
  return client
}

export interface ReadyVideoOptions {
  title?: string
  priceMinor?: number
  visibility?: 'draft' | 'published'
  watermarkEnabled?: boolean | null
  watermarkMode?: WatermarkMode | null
  /** A source file (default: the 6 s 640x360 fixture). */
  source?: string
}

/**
 * A video taken through the real transcode (FFmpeg, storage) in this process,
 * without the upload and queue steps the media pipeline tests already cover.
 */
export async function readyVideo(owner: User, options: ReadyVideoOptions = {}) {
  const source = options.source ?? (await media.landscape())
  const id = randomUUID()
  const video = await Video.create({
    id,
    ownerId: owner.id,
    title: options.title ?? 'A test film',
    status: 'queued',
    priceMinor: options.priceMinor ?? 0,
    currency: 'USD',
    visibility: options.visibility ?? 'published',
    watermarkEnabled: options.watermarkEnabled ?? null,
    watermarkMode: options.watermarkMode ?? null,
    sourceKey: `videos/${id}/source/master.mp4`,
    sourceFilename: 'master.mp4',
    sourceSize: (await stat(source)).size,
  })
  await storage.put(video.sourceKey, createReadStream(source))
  const outcome = await transcoder.process({ videoId: id })
  if (outcome !== 'ready') throw new Error(`test video did not transcode: ${outcome}`)
  return (await Video.find(id))!
}

/** A user created directly, and a client logged in as them. */
export async function loggedIn(username: string, role: 'viewer' | 'creator' | 'admin' = 'viewer') {
  const user = await User.create({ username, email: `${username}@example.com`, password: 'correct horse battery', role })
  const client = new WebClient()
  const response = await client.login(username)
  if (response.status !== 302) throw new Error(`login of ${username} failed: ${response.status}`)
  return { user, client }
}
