import { readdir } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import mediaConfig from '#config/media'
import Video, { type VideoStatus } from '#models/video'
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
