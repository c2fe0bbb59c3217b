import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { DateTime } from 'luxon'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import Video from '#models/video'
import TranscodeChunk from '#models/transcode_chunk'
import mediaConfig from '#config/media'
import storage from '#services/storage_service'
import queues from '#services/queue_service'
import sourceCache from '#services/media/source_cache'
import { MediaRejectedError, run } from '#services/media/ffmpeg'
import { chunkCommand, chunkFileName, joinCommand, soundtrackCommand, soundtrackFileName, variantStreamName } from '#services/media/ladder'
import { runTimeoutMs } from '#services/media/limits'
import { planForensicOutput } from '#services/media/forensic_variants'
import { chunkKey, chunkPrefix } from '#services/media/storage_keys'
import { makeWorkDir } from '#services/media/work_dirs'
import { broadcastVideoProgress } from '#services/video_events'
import type { ChunkPlan, ChunkRange } from '#services/media/chunks'
import type { LadderFiles, TranscodeOutcome, TranscodeService } from '#services/transcode_service'

const WORKDIR_PREFIX = 'matinee-transcode-'

/** A job of the `transcode_chunk` queue: one piece of one plan. */
export interface ChunkJobData {
  videoId: string
  generation: number
  index: number
}

export type ChunkOutcome = 'done' | 'stale' | 'waiting' | TranscodeOutcome

/** Share of the progress bar the soundtrack and the join each stand for (against the video chunks' 1). */
const SIDE_WEIGHT = 0.05

const WORKER_NAME = `${hostname()}:${process.pid}`

/** What goes in the sprite and poster files a soundtrack piece stores. */
const SPRITE_FILE = 'sprite.jpg'
const POSTER_FILE = 'poster.jpg'

/**
 * Segment-parallel transcoding of long videos. The transcode job plans the
 * pieces (rows of `transcode_chunks`, jobs on the `transcode_chunk` queue):
 * - `video` chunks: whole GOPs of every rendition and forensic variant, one
 *   FFmpeg process each, any worker;
 * - one `audio` piece: the whole soundtrack per audio bitrate, the poster
 *   and the sprite (AAC in one piece: chunked AAC clicks at the joins);
 * - one `join`, enqueued when the others are done: it stream-copies them
 *   into the video's HLS ladder (the one-process path's output) and stores
 *   it as the one-process path does.
 * Pieces are stored under the video's `chunks/` prefix, so the join can run
 * on any worker. PostgreSQL holds each piece's state: attempts are counted
 * when they start (a piece whose worker died counts), a piece out of
 * attempts fails the video, and the reconciler re-enqueues what Redis lost.
 */
export class ChunkedTranscoder {
  constructor(private host: TranscodeService) {}

  /** Plans the pieces of `video`'s transcode (its current attempt) and enqueues them. */
  async start(video: Video, ranges: ChunkRange[], plan: ChunkPlan) {
    const generation = video.attempts
    await this.clear(video.id)
    const now = DateTime.now()
    const rows = [
      ...ranges.map((range, index) => ({ kind: 'video' as const, index, ...range })),
      { kind: 'audio' as const, index: ranges.length, startFrame: 0, frameCount: plan.totalFrames },
      { kind: 'join' as const, index: ranges.length + 1, startFrame: 0, frameCount: plan.totalFrames },
    ]
    await db.transaction(async (trx) => {
      await TranscodeChunk.createMany(
        rows.map((row) => ({ ...row, videoId: video.id, generation, status: 'pending' as const, attempts: 0, progress: 0, plan, createdAt: now, updatedAt: now })),
        { client: trx }
      )
    })
    // The soundtrack first: it is the longest piece (it reads the whole source, for the sprite too), and
    // started last it would keep one worker busy after the others ran out of chunks.
    const order = [rows.find((row) => row.kind === 'audio')!, ...rows.filter((row) => row.kind === 'video')]
    for (const row of order) await this.#enqueue({ videoId: video.id, generation, index: row.index })
    logger.info({ videoId: video.id, chunks: ranges.length }, 'long video: transcoding in chunks')
  }

  /**
   * For a video in processing: when its current attempt was chunked, puts
   * back on the queue every unfinished piece whose job Redis no longer holds
   * (the join only once the others are done) and returns true.
   */
  async resume(video: Video): Promise<boolean> {
    const rows = await TranscodeChunk.query().where('videoId', video.id).where('generation', video.attempts).orderBy('index')
    if (rows.length === 0) return false
    const piecesDone = rows.every((row) => row.kind === 'join' || row.status === 'done')
    for (const row of rows) {
      if (row.status === 'done' || row.status === 'failed') continue
      if (row.kind === 'join' && !piecesDone) continue
      if (await this.#enqueue({ videoId: video.id, generation: row.generation, index: row.index })) {
        logger.info({ videoId: video.id, index: row.index }, 're-enqueued a transcode chunk Redis had lost')
      }
    }
    return true
  }

  /** Forgets every plan of a video: its rows and its stored pieces. */
  async clear(videoId: string) {
    await TranscodeChunk.query().where('videoId', videoId).delete()
    await storage.delete(chunkPrefix(videoId))
  }

  /** One attempt at one piece, run by a worker. Throwing asks the queue to retry later. */
  async process(data: ChunkJobData): Promise<ChunkOutcome> {
    const video = await Video.find(data.videoId)
    if (!video) return 'gone'
    // A job of an attempt that is over (the video failed, was retried or is ready): nothing to do.
    if (video.status !== 'processing' || video.attempts !== data.generation) return 'stale'
    const chunk = await TranscodeChunk.query().where({ videoId: data.videoId, generation: data.generation, index: data.index }).first()
    if (!chunk || chunk.status === 'failed') return 'stale'
    if (chunk.status === 'done') {
      await this.#afterPieceDone(video.id, chunk.generation)
      return 'done'
    }
    const total = chunk.plan.videoChunks
    if (chunk.attempts >= mediaConfig.attempts) {
      const reason = `The transcode stopped ${chunk.attempts} times without finishing ${describe(chunk, total)} (its worker died or was stopped each time).`
      return this.#failVideo(video, chunk, new Error(reason))
    }
    chunk.merge({ status: 'encoding', attempts: chunk.attempts + 1, worker: WORKER_NAME, progress: 0 })
    await chunk.save()

    const workDir = await makeWorkDir(WORKDIR_PREFIX, `${video.id}-${chunk.index}`)
    try {
      if (chunk.kind === 'join') {
        const outcome = await this.#join(video, chunk, workDir)
        await TranscodeChunk.query().where('id', chunk.id).update({ status: 'done', progress: 1, updatedAt: new Date() })
        // The pieces were copied into the ladder: they go (the rows stay, a record of who did what).
        await storage.delete(chunkPrefix(video.id))
        await sourceCache.drop(video.sourceKey).catch(() => {})
        return outcome
      }
      await sourceCache.use(video.sourceKey, video.sourceFilename, (source) =>
        chunk.kind === 'video' ? this.#encodeVideo(video, chunk, source, workDir) : this.#encodeSoundtrack(video, chunk, source, workDir)
      )
      for (const file of await readdir(workDir)) {
        await storage.put(chunkKey(video.id, chunk.generation, chunk.index, file), createReadStream(join(workDir, file)))
      }
      await this.#afterPieceDone(video.id, chunk.generation, chunk.id)
      return 'done'
    } catch (error) {
      return await this.#handleFailure(video, chunk, error as Error)
    } finally {
      await rm(workDir, { recursive: true, force: true })
    }
  }

  /**
   * Puts a piece's job on the queue unless Redis holds it (a failed one is
   * replaced); true when it was enqueued. Redis is asked, not bee-queue's
   * getJob: a producer answers that from the jobs it created itself, which
   * it still remembers after Redis lost them.
   */
  async #enqueue(data: ChunkJobData) {
    const queue = queues.producer('transcode_chunk')
    const id = jobId(data)
    const existing = await queues.findJob('transcode_chunk', id)
    if (existing?.state === 'failed') await queue.removeJob(id)
    else if (existing) return false
    await queue.createJob(data).setId(id).retries(mediaConfig.attempts - 1).backoff('exponential', mediaConfig.retryBackoffMs).save()
    return true
  }

  /**
   * Marks a piece done (when `chunkId` is given) and, when every piece but
   * the join is done, enqueues the join. The video's row is locked first, so
   * of two pieces finishing at once the second sees the first as done.
   */
  async #afterPieceDone(videoId: string, generation: number, chunkId?: number) {
    const joinIndex = await db.transaction(async (trx) => {
      const video = await trx.from('videos').where('id', videoId).forUpdate().first()
      if (!video || video.status !== 'processing' || video.attempts !== generation) return null
      if (chunkId !== undefined) {
        await trx.from('transcode_chunks').where('id', chunkId).update({ status: 'done', progress: 1, updated_at: new Date() })
      }
      const rows = await trx.from('transcode_chunks').where({ video_id: videoId, generation }).select('kind', 'status', 'index')
      const join = rows.find((row) => row.kind === 'join')
      const piecesDone = rows.every((row) => row.kind === 'join' || row.status === 'done')
      return piecesDone && join && join.status !== 'done' ? (join.index as number) : null
    })
    await this.#publishProgress(videoId, generation)
    if (joinIndex !== null) await this.#enqueue({ videoId, generation, index: joinIndex })
  }

  async #handleFailure(video: Video, failed: TranscodeChunk, error: Error): Promise<ChunkOutcome> {
    const chunk = await TranscodeChunk.find(failed.id)
    if (!chunk) return 'stale'
    const current = await Video.find(video.id)
    if (!current) return 'gone'
    if (current.status !== 'processing' || current.attempts !== chunk.generation) return 'stale'
    const permanent = error instanceof MediaRejectedError
    const exhausted = chunk.attempts >= mediaConfig.attempts
    if (permanent || exhausted) return this.#failVideo(current, chunk, error)
    chunk.merge({ status: 'pending', progress: 0, lastError: error.message.slice(0, 2000) })
    await chunk.save()
    logger.warn({ videoId: video.id, chunk: chunk.index, attempt: chunk.attempts, err: error }, 'transcode chunk failed; will retry')
    throw error
  }

  /** A piece cannot be made: the video fails for good, with that piece's error; the other pieces' jobs find it failed and stop. */
  async #failVideo(video: Video, chunk: TranscodeChunk, error: Error): Promise<ChunkOutcome> {
    await TranscodeChunk.query().where('id', chunk.id).update({ status: 'failed', lastError: error.message.slice(0, 2000), updatedAt: new Date() })
    await storage.delete(chunkPrefix(video.id)).catch(() => {})
    await this.host.clearOutputs(video).catch(() => {})
    return this.host.failForGood(video, error)
  }

  /** One chunk of frames of every rendition and forensic variant. */
  async #encodeVideo(video: Video, chunk: TranscodeChunk, source: string, outDir: string) {
    const { plan } = chunk
    const forensic = await planForensicOutput({ id: video.id, forensicOn: plan.forensic }, plan.renditions, outDir)
    const seconds = chunk.frameCount / plan.fps
    await run(
      'ffmpeg',
      chunkCommand({
        input: source,
        demuxer: plan.source.demuxer,
        startFrame: chunk.startFrame,
        frameCount: chunk.frameCount,
        fps: plan.fps,
        renditions: plan.renditions,
        segmentSeconds: plan.segmentSeconds,
        preset: plan.preset,
        forensic,
        outDir,
        progress: true,
      }),
      {
        // The whole video's limit, not a chunk's share of it: chunks run side by side on shared cores
        // (two workers on one machine each get half of it), so a chunk may take as long as the
        // one-process transcode of the whole video would have been allowed to.
        cpu: mediaConfig.transcodeCpu,
        timeoutMs: runTimeoutMs(plan.source) * (forensic ? 3 : 1),
        onProgress: this.#progressReporter(chunk, (written) => written / seconds),
      }
    )
  }

  /** The whole soundtrack (one file per audio bitrate), the sprite and the poster. */
  async #encodeSoundtrack(video: Video, chunk: TranscodeChunk, source: string, outDir: string) {
    const { plan } = chunk
    const duration = plan.source.durationSeconds
    await run(
      'ffmpeg',
      soundtrackCommand({
        input: source,
        demuxer: plan.source.demuxer,
        hasAudio: plan.source.hasAudio,
        durationSeconds: duration,
        fps: plan.fps,
        audioKbps: plan.renditions.map((rendition) => rendition.audioKbps),
        outDir,
        sprite: { ...plan.sprite, path: join(outDir, SPRITE_FILE) },
        progress: true,
      }),
      { cpu: mediaConfig.transcodeCpu, timeoutMs: runTimeoutMs(plan.source), onProgress: this.#progressReporter(chunk, (written) => written / duration) }
    )
    if (!video.customPoster) await this.host.makePoster(source, plan.source, join(outDir, POSTER_FILE))
  }

  /**
   * Stitches the pieces: each rendition's chunks (and each variant's) in
   * order with its soundtrack, into the one-process path's HLS output, then
   * stores it and marks the video ready through the transcode service.
   */
  async #join(video: Video, chunk: TranscodeChunk, workDir: string): Promise<TranscodeOutcome> {
    const { plan } = chunk
    const pieces = await TranscodeChunk.query().where({ videoId: video.id, generation: chunk.generation }).whereNot('kind', 'join').orderBy('index')
    const missing = pieces.filter((piece) => piece.status !== 'done')
    if (missing.length) throw new Error(`The join started before ${missing.map((piece) => describe(piece, plan.videoChunks)).join(', ')} was done`)
    const videoPieces = pieces.filter((piece) => piece.kind === 'video')
    const soundtrack = pieces.find((piece) => piece.kind === 'audio')!

    // Every file flat in one folder: the concat lists name their files by
    // bare names (FFmpeg's safe mode: no paths, no protocols).
    const dir = join(workDir, 'pieces')
    await mkdir(dir, { recursive: true })
    const fetch = async (piece: TranscodeChunk, file: string) => {
      const local = join(dir, `p${String(piece.index).padStart(5, '0')}_${file}`)
      const object = await storage.get(chunkKey(video.id, piece.generation, piece.index, file))
      await pipeline(object.body, createWriteStream(local))
      return local
    }

    const forensic = await planForensicOutput({ id: video.id, forensicOn: plan.forensic }, plan.renditions, join(workDir, 'forensic'))
    const streamNames = [
      ...plan.renditions.map((rendition) => rendition.name),
      ...(forensic?.variants ?? []).map((v) => variantStreamName(plan.renditions[v.rendition].name, v.variant)),
    ]
    const lists = new Map<string, string>()
    for (const name of streamNames) {
      const lines = ['ffconcat version 1.0']
      for (const [k, piece] of videoPieces.entries()) {
        const local = await fetch(piece, chunkFileName(name))
        lines.push(`file ${local.slice(dir.length + 1)}`)
        // Exact placement: the next chunk starts right after this one's last frame.
        if (k < videoPieces.length - 1) lines.push(`duration ${(piece.frameCount / plan.fps).toFixed(6)}`)
      }
      const list = join(dir, `${name}.ffconcat`)
      await writeFile(list, lines.join('\n') + '\n')
      lists.set(name, list)
    }
    const audio = new Map<number, string>()
    for (const kbps of new Set(plan.renditions.map((rendition) => rendition.audioKbps))) {
      audio.set(kbps, await fetch(soundtrack, soundtrackFileName(kbps)))
    }
    const spritePath = await fetch(soundtrack, SPRITE_FILE)
    const posterPath = video.customPoster ? undefined : await fetch(soundtrack, POSTER_FILE)

    const outDir = join(workDir, 'hls')
    await run(
      'ffmpeg',
      joinCommand({
        renditions: plan.renditions,
        videoLists: plan.renditions.map((rendition) => lists.get(rendition.name)!),
        audio: plan.renditions.map((rendition) => audio.get(rendition.audioKbps)!),
        forensic: forensic && {
          outDir: forensic.outDir,
          streams: forensic.variants.map((v) => {
            const name = variantStreamName(plan.renditions[v.rendition].name, v.variant)
            return { rendition: v.rendition, name, list: lists.get(name)! }
          }),
        },
        segmentSeconds: plan.segmentSeconds,
        outDir,
      }),
      { cpu: mediaConfig.transcodeCpu, timeoutMs: runTimeoutMs({ ...plan.source, durationSeconds: plan.source.durationSeconds / 4 }) }
    )

    const files: LadderFiles = {
      info: plan.source,
      renditions: plan.renditions,
      outDir,
      forensic,
      sprite: { ...plan.sprite, path: spritePath },
      posterPath,
    }
    return this.host.complete(video, await this.host.storeLadder(video, files))
  }

  /** Progress of a piece from FFmpeg's, saved every couple of seconds (also a liveness mark) and summed into the video's. */
  #progressReporter(chunk: TranscodeChunk, share: (seconds: number) => number) {
    let lastSaved = 0
    return (seconds: number) => {
      if (Date.now() - lastSaved < 2000) return
      lastSaved = Date.now()
      const progress = Math.max(0, Math.min(1, share(seconds)))
      TranscodeChunk.query()
        .where('id', chunk.id)
        .where('status', 'encoding')
        .update({ progress, updatedAt: new Date() })
        .then(() => this.#publishProgress(chunk.videoId, chunk.generation))
        .catch(() => {})
    }
  }

  /**
   * The video's progress: its pieces' progress weighted by their work (a
   * video chunk by its frames; the soundtrack and the join each by a small
   * share of the whole), never going back, 99 at most until it is ready.
   */
  async #publishProgress(videoId: string, generation: number) {
    const rows = await TranscodeChunk.query().where({ videoId, generation }).select('kind', 'frameCount', 'progress', 'status')
    if (rows.length === 0) return
    const totalFrames = rows.filter((row) => row.kind === 'video').reduce((sum, row) => sum + row.frameCount, 0)
    let done = 0
    let all = 0
    for (const row of rows) {
      const weight = row.kind === 'video' ? row.frameCount : SIDE_WEIGHT * totalFrames
      all += weight
      done += weight * (row.status === 'done' ? 1 : row.progress)
    }
    const percent = Math.min(99, Math.floor((done / all) * 100))
    const updated = await Video.query()
      .where('id', videoId)
      .where('status', 'processing')
      .where('attempts', generation)
      .where('progress', '<', percent)
      .update({ progress: percent, updated_at: new Date() })
    if (Number(Array.isArray(updated) ? updated[0] : updated) > 0) {
      broadcastVideoProgress({ id: videoId, status: 'processing', progress: percent, lastError: null })
    }
  }
}

const jobId = (data: ChunkJobData) => `${data.videoId}.${data.generation}.${data.index}`

/** A piece as people read it: "chunk 3 of 20", "the soundtrack", "the join". */
function describe(chunk: Pick<TranscodeChunk, 'kind' | 'index'>, videoChunks: number) {
  if (chunk.kind === 'audio') return 'the soundtrack'
  if (chunk.kind === 'join') return 'the join'
  return `chunk ${chunk.index + 1} of ${videoChunks}`
}
