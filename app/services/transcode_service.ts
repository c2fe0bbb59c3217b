import { createReadStream } from 'node:fs'
import { readdir, rm } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { DateTime } from 'luxon'
import logger from '@adonisjs/core/services/logger'
import Video, { type Rendition, type SpriteInfo } from '#models/video'
import storage from '#services/storage_service'
import storageCleanup from '#services/media/storage_cleanup'
import queues from '#services/queue_service'
import plugins from '#services/plugins'
import mediaConfig from '#config/media'
import { probe } from '#services/media/probe'
import { MediaRejectedError, inputArgs, run } from '#services/media/ffmpeg'
import { hlsCommand, outputFps, planLadder } from '#services/media/ladder'
import { assertWithinLimits, runTimeoutMs } from '#services/media/limits'
import { planSprite, spriteVtt } from '#services/media/sprite'
import { broadcastVideoProgress } from '#services/video_events'
import { withLock } from '#services/lock_service'
import { makeWorkDir, sweepWorkDirs } from '#services/media/work_dirs'
import { planForensicOutput, storeForensicVariants } from '#services/media/forensic_variants'
import watermarkDefaultMode from '#services/watermark/default_mode'
import { chunkPrefix, generatedPosterKey, hlsPrefixOf, spriteKey, spriteVttKey } from '#services/media/storage_keys'
import { planChunks, outputFrames } from '#services/media/chunks'
import sourceCache, { SOURCE_CACHE_PREFIX } from '#services/media/source_cache'
import { ChunkedTranscoder } from '#services/media/chunked_transcode'
import type { ForensicOutput, PlannedRendition } from '#services/media/ladder'
import type { SpritePlan } from '#services/media/sprite'
import type { ProbeResult } from '#services/media/probe'

const WORKDIR_PREFIX = 'matinee-transcode-'

export interface TranscodeJobData {
  videoId: string
}

/** The outcome a worker reports for one attempt ('chunked': handed to chunk jobs, which finish it). */
export type TranscodeOutcome = 'ready' | 'failed' | 'gone' | 'chunked'

/** What a finished transcode hands over for storing: files in a work folder. */
export interface LadderFiles {
  info: Pick<ProbeResult, 'durationSeconds' | 'width' | 'height'>
  renditions: PlannedRendition[]
  /** The HLS output (master, rendition playlists, init and media segments). */
  outDir: string
  forensic?: ForensicOutput
  sprite: SpritePlan & { path: string }
  /** The generated poster (none when the video has a custom one). */
  posterPath?: string
}

/**
 * Turns an uploaded master into an HLS ladder, a poster and a thumbnail
 * sprite. PostgreSQL holds the state (`videos.status`); the queue only
 * carries work, so anything Redis loses is found again by `reconcile()`.
 */
export class TranscodeService {
  /** Long videos: chunks any worker encodes, then a join (app/services/media/chunked_transcode.ts). */
  readonly chunks = new ChunkedTranscoder(this)

  /**
   * Puts a video on the transcode queue. The job id is the video id, so
   * enqueuing twice (reconciler, retries from the admin) never runs it twice.
   */
  async enqueue(video: Video) {
    // The video's state is written before the job exists: a worker may take
    // the job at once, and must not find (then overwrite) the state before.
    if (video.status === 'uploaded' || video.status === 'failed') {
      video.status = 'queued'
      video.progress = 0
    }
    if (video.$isDirty) await video.save()
    const queue = queues.producer('transcode')
    // Redis is asked (not bee-queue's getJob, which answers from the jobs this
    // producer created, even after Redis lost them).
    const existing = await queues.findJob('transcode', video.id)
    if (existing?.state === 'failed') await queue.removeJob(video.id)
    if (!existing || existing.state === 'failed') {
      await queue
        .createJob({ videoId: video.id } satisfies TranscodeJobData)
        .setId(video.id)
        .retries(mediaConfig.attempts - 1)
        .backoff('exponential', mediaConfig.retryBackoffMs)
        .save()
    }
    broadcastVideoProgress(video)
  }

  /** A failed video gets a fresh set of attempts; false when it has not failed. */
  async retry(video: Video) {
    if (video.status !== 'failed') return false
    video.attempts = 0
    video.transcodeInterruptions = 0
    await this.enqueue(video)
    return true
  }

  /**
   * One attempt, run by a worker. Throwing asks the queue to retry later.
   * The attempt is counted in PostgreSQL when it starts, so a run whose
   * worker died (the queue hands its job to another worker) counted too:
   * a video that kills workers fails once its attempts are used up.
   */
  async process(data: TranscodeJobData): Promise<TranscodeOutcome> {
    const video = await Video.find(data.videoId)
    if (!video) return 'gone'
    if (video.status === 'ready') return 'ready'

    // Handed to chunk jobs by an earlier run: they finish it (this job was enqueued again, by the reconciler say).
    if (video.status === 'processing' && (await this.chunks.resume(video))) return 'chunked'
    // Still "processing": the run before this one never recorded an outcome.
    if (video.status === 'processing') video.transcodeInterruptions += 1
    if (video.attempts >= mediaConfig.attempts) return this.#giveUp(video)

    video.status = 'processing'
    video.progress = 0
    video.attempts += 1
    video.processingStartedAt = DateTime.now()
    await video.save()
    broadcastVideoProgress(video)

    const workDir = await makeWorkDir(WORKDIR_PREFIX, video.id)
    let chunked = false
    try {
      await this.clearOutputs(video)
      const files = await this.#transcode(video, workDir)
      if (files === 'chunked') {
        chunked = true
        return 'chunked'
      }
      return await this.complete(video, await this.storeLadder(video, files))
    } catch (error) {
      return await this.handleFailure(video, error as Error)
    } finally {
      await rm(workDir, { recursive: true, force: true })
      // The chunk jobs this worker takes use the copy; otherwise it is done with.
      if (!chunked) await sourceCache.drop(video.sourceKey).catch(() => {})
    }
  }

  /** Records a stored ladder on the row: the video is ready (or its outputs go, if it was deleted meanwhile). */
  async complete(video: Video, outputs: Awaited<ReturnType<TranscodeService['storeLadder']>>): Promise<TranscodeOutcome> {
    if (!(await Video.find(video.id))) {
      // Deleted while we worked: leave nothing behind, through the same
      // recorded deletion as the video's own (a failed one is retried).
      await storageCleanup.schedule([video.storagePrefix])
      await storageCleanup.run([video.storagePrefix])
      return 'gone'
    }
    // The pieces of a chunked transcode are deleted once it is recorded: they are not the video's.
    const storedBytes = (await storage.sizeOf(video.storagePrefix)) - (await storage.sizeOf(chunkPrefix(video.id)))
    video.merge({ ...outputs, storedBytes, status: 'ready', progress: 100, lastError: null, readyAt: DateTime.now() })
    await video.save()
    broadcastVideoProgress(video)
    await plugins.hooks.doAction('video:ready', { videoId: video.id, ownerId: video.ownerId })
    return 'ready'
  }

  /** Every attempt was used up by runs that never finished: failed for good, with what happened. */
  async #giveUp(video: Video): Promise<TranscodeOutcome> {
    const stopped = video.transcodeInterruptions
    const reason =
      stopped >= video.attempts
        ? `The transcode stopped ${stopped} times without finishing (its worker died or was stopped each time).`
        : `The transcode stopped without finishing on its last attempt (${stopped} of ${video.attempts} attempts stopped; its worker died or was stopped).` +
          (video.lastError ? ` Earlier: ${video.lastError}` : '')
    await this.clearOutputs(video).catch(() => {})
    return this.failForGood(video, new Error(reason))
  }

  /** The video failed for good, with `error` for its creator; its hooks are told. */
  async failForGood(video: Video, error: Error): Promise<TranscodeOutcome> {
    video.lastError = error.message.slice(0, 2000)
    video.progress = 0
    video.status = 'failed'
    await video.save()
    broadcastVideoProgress(video)
    logger.warn({ videoId: video.id, err: error }, 'transcode failed for good')
    await plugins.hooks.doAction('video:failed', { videoId: video.id, ownerId: video.ownerId, error: video.lastError })
    return 'failed'
  }

  /**
   * A failed attempt: failed for good when it cannot succeed (bad media, no
   * attempts left), else back to queued and rethrown so the queue retries.
   */
  async handleFailure(failed: Video, error: Error): Promise<TranscodeOutcome> {
    await this.clearOutputs(failed).catch(() => {})
    // Work on a fresh copy: the failed model may hold the changes that failed to save.
    const video = await Video.find(failed.id)
    if (!video) return 'gone'
    const permanent = error instanceof MediaRejectedError
    const exhausted = video.attempts >= mediaConfig.attempts
    if (permanent || exhausted) return this.failForGood(video, error)
    video.lastError = error.message.slice(0, 2000)
    video.progress = 0
    video.status = 'queued'
    await video.save()
    broadcastVideoProgress(video)
    logger.warn({ videoId: video.id, attempt: video.attempts, err: error }, 'transcode attempt failed; will retry')
    throw error
  }

  /** Outputs of an earlier, interrupted attempt would be orphans: start clean. */
  async clearOutputs(video: Video) {
    await this.chunks.clear(video.id)
    await storage.delete(hlsPrefixOf(video.id))
    await storage.delete(spriteKey(video.id))
    await storage.delete(spriteVttKey(video.id))
    if (!video.customPoster) await storage.delete(generatedPosterKey(video.id))
  }

  /**
   * Probes the source and either encodes the whole ladder in one FFmpeg
   * process (into `workDir`), or, for a long video, plans chunks that any
   * worker encodes ('chunked': the chunk jobs finish the video).
   */
  async #transcode(video: Video, workDir: string): Promise<LadderFiles | 'chunked'> {
    return sourceCache.use(video.sourceKey, video.sourceFilename, async (sourcePath) => {
      const info = await probe(sourcePath)
      assertWithinLimits(info)
      const renditions = planLadder(info, mediaConfig.ladder)
      const fps = outputFps(info.fps, mediaConfig.maxFps)
      const layout = planSprite(info.durationSeconds, info.width, info.height, mediaConfig.sprite)
      await watermarkDefaultMode.refresh()

      const ranges = planChunks(info.durationSeconds, fps, { ...mediaConfig.chunking, segmentSeconds: mediaConfig.segmentSeconds })
      if (ranges) {
        await this.chunks.start(video, ranges, {
          renditions,
          fps,
          segmentSeconds: mediaConfig.segmentSeconds,
          preset: mediaConfig.x264Preset,
          totalFrames: outputFrames(info.durationSeconds, fps),
          videoChunks: ranges.length,
          source: { demuxer: info.demuxer, durationSeconds: info.durationSeconds, width: info.width, height: info.height, fps: info.fps, hasAudio: info.hasAudio },
          forensic: video.forensicOn,
          sprite: layout,
        })
        return 'chunked'
      }

      const outDir = join(workDir, 'hls')
      const sprite = { ...layout, path: join(workDir, 'sprite.jpg') }
      // Forensic videos: A/B variants from the same decode (a second output).
      const forensic = await planForensicOutput(video, renditions, join(workDir, 'forensic'))

      let lastSaved = 0
      await run(
        'ffmpeg',
        hlsCommand({
          input: sourcePath,
          demuxer: info.demuxer,
          outDir,
          renditions,
          fps,
          segmentSeconds: mediaConfig.segmentSeconds,
          durationSeconds: info.durationSeconds,
          hasAudio: info.hasAudio,
          preset: mediaConfig.x264Preset,
          sprite,
          forensic,
          progress: true,
        }),
        {
          // Each rendition with variants is encoded three times.
          cpu: mediaConfig.transcodeCpu,
          timeoutMs: runTimeoutMs(info) * (forensic ? 3 : 1),
          onProgress: (seconds) => {
            const percent = Math.min(99, Math.floor((seconds / info.durationSeconds) * 100))
            if (percent <= video.progress) return
            video.progress = percent
            broadcastVideoProgress(video)
            // The row doubles as a liveness mark: saved every couple of seconds.
            if (Date.now() - lastSaved > 2000) {
              lastSaved = Date.now()
              Video.query().where('id', video.id).update({ progress: percent, updated_at: new Date() }).catch(() => {})
            }
          },
        }
      )

      const posterPath = video.customPoster ? undefined : await this.makePoster(sourcePath, info, join(workDir, 'poster.jpg'))
      return { info, renditions, outDir, forensic, sprite, posterPath }
    })
  }

  /** The generated poster: a frame at 10% of the video (at most 10 s in). */
  async makePoster(sourcePath: string, info: Pick<ProbeResult, 'durationSeconds' | 'demuxer' | 'width' | 'height' | 'fps'>, posterPath: string) {
    const at = Math.min(info.durationSeconds * 0.1, 10)
    await run(
      'ffmpeg',
      [
        '-hide_banner', '-loglevel', 'error', '-y', '-ss', at.toFixed(2), ...inputArgs(sourcePath, info.demuxer),
        '-frames:v', '1', '-vf', `scale=-2:'min(${mediaConfig.posterLines},ih)'`, '-q:v', '3', posterPath,
      ],
      { cpu: mediaConfig.transcodeCpu, timeoutMs: runTimeoutMs({ ...info, durationSeconds: at }) }
    )
    return posterPath
  }

  /**
   * Stores a transcode's files (poster, sprite, forensic variants checked
   * against their renditions, playlists and segments, the master last) and
   * returns what the row records.
   */
  async storeLadder(video: Video, files: LadderFiles) {
    const { info, renditions, outDir, forensic, sprite } = files
    let posterKey = video.posterKey
    if (files.posterPath) {
      posterKey = generatedPosterKey(video.id)
      await storage.put(posterKey, createReadStream(files.posterPath), { contentType: 'image/jpeg' })
    }

    const spriteInfo: SpriteInfo = {
      key: spriteKey(video.id),
      vttKey: spriteVttKey(video.id),
      intervalSeconds: sprite.intervalSeconds,
      tileWidth: sprite.tileWidth,
      tileHeight: sprite.tileHeight,
      columns: sprite.columns,
      count: sprite.count,
    }
    await storage.put(spriteInfo.key, createReadStream(sprite.path), { contentType: 'image/jpeg' })
    await storage.put(spriteInfo.vttKey, Buffer.from(spriteVtt(spriteInfo, info.durationSeconds)), { contentType: 'text/vtt' })

    // Variant playlists and segments first, the master last: a master in
    // storage means a complete ladder.
    const hlsPrefix = hlsPrefixOf(video.id)
    const withVariants = forensic ? await storeForensicVariants(forensic, renditions, outDir, hlsPrefix) : new Set()
    const stored = (await listFiles(outDir)).sort((a, b) => Number(a.endsWith('master.m3u8')) - Number(b.endsWith('master.m3u8')))
    for (const file of stored) {
      const key = hlsPrefix + relative(outDir, file).split(sep).join('/')
      await storage.put(key, createReadStream(file))
    }

    const storedRenditions: Rendition[] = renditions.map((rendition) => ({
      ...rendition,
      playlist: `${rendition.name}/index.m3u8`,
      ...(withVariants.has(rendition) ? { forensicVariants: true as const } : {}),
    }))
    return {
      durationSeconds: Math.round(info.durationSeconds * 1000) / 1000,
      width: info.width,
      height: info.height,
      posterKey,
      hlsPrefix,
      renditions: storedRenditions,
      sprite: spriteInfo,
    }
  }

  /**
   * Removes work folders of transcodes whose worker died (its pid is gone):
   * a SIGKILLed worker cannot clean up after itself.
   */
  async sweepStaleWorkDirs() {
    return (await sweepWorkDirs(WORKDIR_PREFIX)) + (await sweepWorkDirs(SOURCE_CACHE_PREFIX))
  }

  /**
   * PostgreSQL is the truth: videos that should be queued or processing but
   * have no job in Redis (Redis lost it, or a crash came between saving and
   * enqueuing) are put back on the queue. One process at a time does it.
   */
  async reconcile(): Promise<string[]> {
    const requeued = await withLock('transcode-reconciler', 30_000, async () => {
      const ids: string[] = []
      const candidates = await Video.query()
        .whereIn('status', ['uploaded', 'queued', 'processing'])
        .where('updatedAt', '<', DateTime.now().minus({ seconds: 5 }).toSQL()!)
      for (const video of candidates) {
        // A chunked transcode: its chunks and join are put back on their queue if Redis lost them.
        if (video.status === 'processing' && (await this.chunks.resume(video))) continue
        const job = await queues.findJob('transcode', video.id)
        if (job && job.state !== 'failed') continue
        if (video.status !== 'uploaded') {
          video.status = 'uploaded'
          await video.save()
        }
        await this.enqueue(video)
        ids.push(video.id)
      }
      return ids
    })
    if (requeued?.length) logger.info({ videos: requeued }, 'reconciler re-enqueued videos Redis had lost')
    return requeued ?? []
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}

const transcoder = new TranscodeService()
export default transcoder
