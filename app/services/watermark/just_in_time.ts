import { createReadStream, createWriteStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { DateTime } from 'luxon'
import redis from '@adonisjs/redis/services/main'
import logger from '@adonisjs/core/services/logger'
import type { VisibleWatermarker } from '#hooks/contracts'
import playbackConfig from '#config/playback'
import queueConfig from '#config/queue'
import mediaConfig from '#config/media'
import PlaybackSession from '#models/playback_session'
import Video, { type Rendition } from '#models/video'
import User from '#models/user'
import plugins from '#services/plugins'
import queues from '#services/queue_service'
import storage from '#services/storage_service'
import { sessionRenditions, sessionSegmentKey, watermarkSeed } from '#services/watermark/session_mark'
import { admitRender } from '#services/watermark/admission'
import { PlaybackError } from '#exceptions/playback_error'
import { withLock } from '#services/lock_service'
import { inputArgs, run } from '#services/media/ffmpeg'
import { runTimeoutMs } from '#services/media/limits'
import { makeWorkDir, sweepWorkDirs } from '#services/media/work_dirs'
import { rateControl } from '#services/media/ladder'
import { rewritePlaylist } from '#services/playback/playlist'
import { hlsKeys, renderKey } from '#services/media/storage_keys'

export interface WatermarkJobData {
  sessionId: string
  rendition: string
  index: number
}

export type WatermarkOutcome = 'rendered' | 'cached' | 'busy' | 'gone' | 'missing'

const DONE_CHANNEL = `${queueConfig.prefix}:watermark:done`
const WORKDIR_PREFIX = 'matinee-watermark-'

/**
 * Just-in-time watermarking. The first request for a segment of a watermarked
 * session puts a job on the `watermark` queue and waits for it; the next few
 * segments go on `watermark_ahead`. A job re-encodes only that segment of the
 * matching rendition with the session's mark, keeping its timestamps, codec,
 * profile, level and audio, so renders of separate jobs play back to back.
 * Renders live under the session's storage prefix until the session ends.
 */
export class WatermarkService {
  #waiters = new Map<string, Set<() => void>>()
  #subscribed = false

  renderKey(sessionId: string, rendition: string, index: number) {
    return renderKey(sessionId, rendition, index)
  }

  /**
   * The stored render of a segment, rendering it now if needed. Also keeps
   * the lookahead going. Throws 404 past the last segment, 503 if no worker
   * delivers in time.
   */
  async ensure(session: PlaybackSession, video: Video, renditionName: string, index: number) {
    const rendition = session.watermarked && sessionRenditions(session, video).find((r) => r.name === renditionName)
    if (!rendition) throw new PlaybackError('not_found', 404, 'No such rendition')
    const key = this.renderKey(session.id, rendition.name, index)
    let head = await storage.head(key)
    if (!head) {
      if (!(await storage.head(sessionSegmentKey(session, video, rendition.name, index)))) {
        throw new PlaybackError('not_found', 404, 'No such segment')
      }
      // No faster than a realtime player needs (429 past the limit).
      await admitRender(session.id)
      this.#subscribe()
      await this.#enqueue('watermark', { sessionId: session.id, rendition: rendition.name, index })
      head = await this.#awaitRender(key)
    }
    // The lookahead is queued once the segment the player waits for is there,
    // so that its renders do not compete with this one.
    this.#scheduleAhead(session.id, rendition.name, index).catch((error) =>
      logger.warn({ err: error, sessionId: session.id }, 'could not queue the watermark lookahead')
    )
    return head
  }

  async #scheduleAhead(sessionId: string, rendition: string, index: number) {
    const { lookahead } = playbackConfig.watermark
    if (lookahead <= 0) return
    // A marker per segment makes each lookahead job enqueued once per session.
    const ttl = playbackConfig.sessionTtlMinutes * 60
    const batch = redis.pipeline()
    for (let next = index + 1; next <= index + lookahead; next++) {
      batch.set(`${queueConfig.prefix}:wm:ahead:${sessionId}:${rendition}:${next}`, '1', 'EX', ttl, 'NX')
    }
    const results = (await batch.exec()) ?? []
    await Promise.all(
      results.map(([, ok], offset) =>
        ok === 'OK' ? this.#enqueue('watermark_ahead', { sessionId, rendition, index: index + 1 + offset }) : null
      )
    )
  }

  #enqueue(queue: 'watermark' | 'watermark_ahead', data: WatermarkJobData) {
    return queues
      .producer(queue)
      .createJob(data)
      .setId(`${data.sessionId}:${data.rendition}:${data.index}`)
      .timeout(60_000)
      .retries(queue === 'watermark' ? 1 : 0)
      .save()
  }

  /** One subscription per process; renders are announced by key. */
  #subscribe() {
    if (this.#subscribed) return
    this.#subscribed = true
    redis.subscribe(DONE_CHANNEL, (key: string) => {
      const waiters = this.#waiters.get(key)
      this.#waiters.delete(key)
      waiters?.forEach((wake) => wake())
    })
  }

  /** Waits for a render: woken by its announcement, or by polling storage as a fallback. */
  async #awaitRender(key: string) {
    const deadline = Date.now() + playbackConfig.watermark.waitMs
    let delay = 100
    while (Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.#waiters.get(key)?.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, delay)
        if (!this.#waiters.has(key)) this.#waiters.set(key, new Set())
        this.#waiters.get(key)!.add(wake)
      })
      const head = await storage.head(key)
      if (head) return head
      delay = Math.min(delay * 2, 1000)
    }
    throw new PlaybackError('render_timeout', 503, 'This part of the video is not ready yet; try again in a moment')
  }

  /** A worker renders one segment (both queues). */
  async render(data: WatermarkJobData): Promise<WatermarkOutcome> {
    const key = this.renderKey(data.sessionId, data.rendition, data.index)
    const outcome = await withLock(`wm:${key}`, 60_000, async () => {
      if (await storage.head(key)) return 'cached' as const
      const session = await PlaybackSession.find(data.sessionId)
      if (!session || !session.watermarked || session.isRevoked || session.isExpired) return 'gone' as const
      // A session not seen for the idle window no longer counts against its
      // viewer's concurrent-session limit, so it may not hold the pool
      // either: nobody awaits its renders (a player waits far less).
      if (session.lastSeenAt < DateTime.now().minus({ seconds: playbackConfig.idleSeconds })) return 'gone' as const
      const [video, user] = await Promise.all([Video.find(session.videoId), User.find(session.userId)])
      const rendition = video && sessionRenditions(session, video).find((r) => r.name === data.rendition)
      if (!video || !user || !rendition) return 'gone' as const
      // Both: the mark is drawn on the forensic variant the session's code selects.
      const sourceKey = sessionSegmentKey(session, video, rendition.name, data.index)
      const [source, encoding] = await Promise.all([storage.head(sourceKey), this.#encodingOf(video, rendition)])
      if (!source) return 'missing' as const
      const workDir = await makeWorkDir(WORKDIR_PREFIX)
      try {
        const input = join(workDir, 'input.mp4')
        const output = join(workDir, 'output.ts')
        // An fMP4 fragment decodes once its init segment is in front of it.
        const sink = createWriteStream(input)
        await pipeline((await storage.get(encoding.initKey)).body, sink, { end: false })
        await pipeline((await storage.get(sourceKey)).body, sink)
        const args = await this.command({ input, output, rendition, level: encoding.level, index: data.index, session, username: user.username })
        await run('ffmpeg', args, {
          timeoutMs: runTimeoutMs({ durationSeconds: mediaConfig.segmentSeconds, width: rendition.width, height: rendition.height, fps: mediaConfig.maxFps }),
        })
        await storage.put(key, createReadStream(output), { contentType: 'video/mp2t', size: (await stat(output)).size })
        return 'rendered' as const
      } finally {
        await rm(workDir, { recursive: true, force: true })
      }
    })
    await redis.publish(DONE_CHANNEL, key)
    return outcome ?? 'busy'
  }

  /** The FFmpeg arguments that watermark one segment. */
  async command(input: {
    input: string
    output: string
    rendition: Rendition
    level: string | null
    index: number
    session: PlaybackSession
    username: string
  }) {
    const { rendition, session } = input
    const mark = await this.#watermarker().buildFilter({
      session: {
        sessionId: session.id,
        userId: session.userId,
        username: input.username,
        text: session.watermarkText ?? `@${input.username}`,
        seed: watermarkSeed(session.id),
      },
      startSeconds: input.index * mediaConfig.segmentSeconds,
      durationSeconds: mediaConfig.segmentSeconds,
      width: rendition.width,
      height: rendition.height,
      intervalSeconds: playbackConfig.watermark.intervalSeconds,
    })
    return [
      '-hide_banner', '-loglevel', 'error', '-y',
      // Keep the source timestamps: this segment continues its neighbours.
      '-copyts',
      // The platform's own fMP4 rendition, still read only as MP4 from a file.
      ...inputArgs(input.input, 'mov'),
      '-map', '0:v:0', '-map', '0:a:0?',
      '-vf', mark,
      ...this.encoderArgs(rendition, input.level),
      '-f', 'mpegts', '-muxdelay', '0', '-muxpreload', '0',
      input.output,
    ]
  }

  /** Encoder settings of renders: the rendition's rate, profile and level, audio copied. */
  encoderArgs(rendition: Rendition, level: string | null) {
    const rate = rateControl(rendition.videoKbps)
    return [
      '-c:v', 'libx264', '-preset', playbackConfig.watermark.preset,
      // CABAC and 8x8 transforms keep the High profile the master declares,
      // even from the fast presets that turn them off.
      '-x264-params', 'cabac=1:8x8dct=1',
      '-profile:v', 'high', ...(level ? ['-level:v', level] : []),
      '-pix_fmt', 'yuv420p',
      '-b:v', rate.bitrate, '-maxrate', rate.maxrate, '-bufsize', rate.bufsize,
      // One GOP per segment, no B-frames: starts on a keyframe, no reordering delay.
      '-g', '100000', '-bf', '0', '-sc_threshold', '0',
      '-c:a', 'copy',
    ]
  }

  #watermarker(): VisibleWatermarker {
    const found = plugins.watermarks.get(playbackConfig.watermark.watermarker)
    if (!found || found.kind !== 'visible') {
      throw new Error(`No visible watermarker "${playbackConfig.watermark.watermarker}" is registered`)
    }
    return found
  }

  /**
   * What a render must match, from the stored playlists: the H.264 level the
   * master declares for the rendition ("3.1") and the rendition's init segment.
   */
  async #encodingOf(video: Video, rendition: Rendition) {
    let level: string | null = null
    rewritePlaylist(await storage.readText(hlsKeys.master(video.hlsPrefix)), 'master.m3u8', (uri) => {
      const avc = uri.path === rendition.playlist ? uri.attributes.CODECS?.split(',').find((c) => c.startsWith('avc1.')) : undefined
      const idc = avc && avc.length >= 11 ? Number.parseInt(avc.slice(9, 11), 16) : Number.NaN
      if (Number.isFinite(idc)) level = (idc / 10).toFixed(1)
      return uri.path
    })
    let initKey: string | null = null
    rewritePlaylist(await storage.readText(hlsKeys.file(video.hlsPrefix, rendition.playlist)), rendition.playlist, (uri) => {
      if (uri.kind === 'map') initKey = hlsKeys.file(video.hlsPrefix, uri.path)
      return uri.path
    })
    if (!initKey) throw new Error(`${rendition.playlist} of video ${video.id} has no init segment`)
    return { level: level as string | null, initKey: initKey as string }
  }

  /** Work folders of killed workers. */
  sweepStaleWorkDirs() {
    return sweepWorkDirs(WORKDIR_PREFIX)
  }
}

const watermarks = new WatermarkService()
export default watermarks
