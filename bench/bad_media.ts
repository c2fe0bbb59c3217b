import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { stat, utimes } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import User from '#models/user'
import Video from '#models/video'
import accounts from '#services/account_service'
import { media } from '../tests/helpers/media_fixtures.js'
import { tusUpload } from '../tests/helpers/tus_upload.js'
import { WebClient } from '../tests/helpers/web_client.js'
import { figure, isSmoke } from './helpers.js'

/**
 * Files a platform must refuse (tests/helpers/media_fixtures.ts makes them
 * with FFmpeg, tiny, cached between runs): files that point at other local
 * files, renamed .mp4, and videos over the duration, frame size and pixel
 * rate limits. The pointer files all point at the decoy.
 */
const BAD_FILES = {
  'HLS playlist renamed .mp4': media.hlsPlaylistAsMp4,
  'ffconcat list renamed .mp4': media.ffconcatAsMp4,
  'file:// reference renamed .mp4': media.fileUrlAsMp4,
  '10-hour video': media.tenHours,
  '8K 120 fps video': media.eightK120,
  '4K 120 fps video': media.uhd120,
}

export interface BadMediaResult {
  total: number
  /** Answered 4xx with a sentence, and left no video and no read of the decoy behind. */
  refused: number
  /** Uploads after which the decoy (the file the pointer files name) had been read. */
  localReads: number
  outcomes: Array<{ name: string; status: number; refused: boolean; message: string }>
}

/**
 * Sends every bad file through the real upload path (tus over HTTP, as the
 * studio page does) of the web server at `baseUrl`, as a new creator. The
 * outage bench can call it against its own web process.
 */
export async function sendBadMedia(baseUrl: string): Promise<BadMediaResult> {
  const decoy = await media.decoy()
  const past = new Date('2000-01-01T00:00:00Z')
  const password = `bad media ${randomBytes(6).toString('hex')}`
  // A creator of its own each run: per-creator upload limits start from zero.
  const creator = await accounts.register(
    { username: `badmedia_${randomBytes(3).toString('hex')}`, email: `badmedia-${randomBytes(4).toString('hex')}@matinee.local`, password },
    'creator'
  )
  const result: BadMediaResult = { total: 0, refused: 0, localReads: 0, outcomes: [] }
  try {
    const client = new WebClient(baseUrl)
    const login = await client.login(creator.email, password)
    if (login.status !== 302) throw new Error(`bad_media: the creator could not log in (${login.status})`)
    for (const [name, make] of Object.entries(BAD_FILES)) {
      const path = await make()
      // Any read of the decoy moves its access time (relatime: it is older than the file).
      await utimes(decoy, past, (await stat(decoy)).mtime)
      const upload = await tusUpload(client, path, { title: `bad media: ${name}` }, 'holiday.mp4')
      const read = (await stat(decoy)).atimeMs !== past.getTime()
      const stored = await Video.query().where('ownerId', creator.id).count('* as n').first()
      const refused = !upload.ok && upload.status >= 400 && upload.status < 500 && Number(stored?.$extras.n) === 0 && !read
      result.total++
      if (refused) result.refused++
      if (read) result.localReads++
      result.outcomes.push({ name, status: upload.status, refused, message: upload.body.trim() })
    }
  } finally {
    await Video.query().where('ownerId', creator.id).delete()
    await User.query().where('id', creator.id).delete()
  }
  return result
}

/**
 * bad_media: how many bad files the upload path refuses (target: all, with
 * no local file read). The files are tiny, so the bench takes seconds; with
 * BENCH_SMOKE=1 it runs the same (there is nothing smaller to run).
 */
export default async function badMediaBench() {
  // The app's own HTTP server (router, middleware, tus) in this process, on a spare port.
  const server = await app.container.make('server')
  await server.boot()
  const http = createServer(server.handle.bind(server))
  server.setNodeServer(http)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = http.address() as AddressInfo
    const result = await sendBadMedia(`http://127.0.0.1:${port}`)
    for (const outcome of result.outcomes) {
      console.error(`${outcome.refused ? 'refused ' : 'ACCEPTED'} ${outcome.status} ${outcome.name}: ${outcome.message}`)
    }
    if (isSmoke()) console.error('(smoke mode: the same files; they are tiny already)')
    figure('bad_media_refused', result.refused, 'files')
    figure('bad_media_total', result.total, 'files')
    figure('bad_media_local_reads', result.localReads, 'files')
  } finally {
    await new Promise((resolve) => http.close(resolve))
  }
}
