import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import mediaConfig from '#config/media'
import PlaybackSession from '#models/playback_session'
import Video from '#models/video'
import { hlsKeys } from '#services/media/storage_keys'
import { variantFor } from '#services/watermark/forensic_sequence'
import { minimumSegments, traceLeak, type TraceResult } from '#services/watermark/forensic_tracer'
import { joinSegments } from '#tests/helpers/forensic'
import { readStored, readyVideo } from '#tests/helpers/videos'
import { exec, figure, smokeOr, source, timed } from './helpers.js'
import { benchCreator } from './fixtures.js'

/**
 * Tracing leaks (issue 15 item 4): among SESSIONS playback sessions of one
 * forensic video, each trial takes a different session and start, joins the
 * A/B segments that session is served (variantFor), cuts a clip of
 * CLIP_SECONDS from the start, re-encodes it with x264 at half the
 * rendition's bitrate rescaled to another size and frame rate, and traces it.
 * Smoke: 2 s segments of a 68 s 480x270 source, 60 s clips, two trials.
 */
const SESSIONS = 200
const TRIALS = smokeOr(50, 2)
const CLIP_SECONDS = smokeOr(120, 60)
/** The top forensic rendition of the full run: 480p (1,400 kbps), recorded at 700 kbps and rescaled to 360p. */
const RENDITION = smokeOr('480p', '')
const SOURCE = smokeOr({ size: '854x480', seconds: 170, rescale: '640:360' }, { size: '480x270', seconds: 68, rescale: '320:180' })

const pathOf = (key: string) => app.makePath(env.get('STORAGE_LOCAL_ROOT'), key)

/** Deterministic per-trial choices (a bench run is repeatable). */
const pick = (trial: number, salt: number, modulo: number) => (trial * 7919 + salt * 104729) % modulo

export async function traceBench(dir: string) {
  const segmentSeconds = mediaConfig.segmentSeconds
  const renditions = [...mediaConfig.forensic.renditions]
  mediaConfig.segmentSeconds = smokeOr(segmentSeconds, 2)
  mediaConfig.forensic.renditions.splice(0, Infinity, ...(RENDITION ? [RENDITION] : []))
  try {
    await mkdir(dir, { recursive: true })
    // Footage that never repeats: FFmpeg's testsrc2 alone loops its picture
    // (a clip aligns about as well at several places, and a misplaced clip
    // names nobody), which real footage does not. A Mandelbrot zoom rendered
    // at a quarter of the size (cheap), scaled up and averaged with testsrc2
    // for sharp detail, changes every frame for the whole video.
    const [width, height] = SOURCE.size.split('x').map(Number)
    const path = await source(`forensic-trace-zoom-${SOURCE.size}-${SOURCE.seconds}s.mp4`, [
      '-f', 'lavfi', '-i', `mandelbrot=size=${Math.round(width / 4)}x${Math.round(height / 4)}:rate=30`,
      '-f', 'lavfi', '-i', `testsrc2=size=${SOURCE.size}:rate=30`,
      '-filter_complex', `[0]scale=${width}:${height}:flags=bicubic[zoom];[zoom][1]blend=all_mode=average`,
      '-t', String(SOURCE.seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p',
    ])
    console.error(`transcoding the ${SOURCE.seconds} s forensic video...`)
    const video: Video = await readyVideo(await benchCreator(), { title: 'Forensic trace bench', watermarkMode: 'forensic', source: path })
    const rendition = video.renditions!.filter((r) => r.forensicVariants).sort((a, b) => b.height - a.height)[0]
    const viewer = await benchCreator()
    const sessions = await PlaybackSession.createMany(
      Array.from({ length: SESSIONS }, (_, i) => ({
        id: randomUUID(), userId: viewer.id, videoId: video.id, deviceId: `bench-${i}`, userAgent: `BenchPlayer/${i}`, watermarked: false,
        expiresAt: DateTime.now().plus({ hours: 1 }), lastSeenAt: DateTime.now(),
      }))
    )

    const playlist = await readStored(hlsKeys.file(video.hlsPrefix, rendition.playlist))
    const init = pathOf(hlsKeys.init(video.hlsPrefix, rendition.name, playlist.match(/#EXT-X-MAP:URI="([^"]+)"/)![1]))
    const indices = [...playlist.matchAll(/seg_(\d+)\.m4s/g)].map((m) => Number(m[1]))
    const duration = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0)

    /** A recording of `session` from `start` for `seconds`, re-encoded smaller. */
    const leak = async (session: PlaybackSession, start: number, seconds: number, name: string) => {
      const stream = await joinSegments(
        init,
        indices.map((i) => pathOf(hlsKeys.variantSegment(video.hlsPrefix, rendition.name, variantFor(session.id, video.id, i) === 'A' ? 'a' : 'b', i))),
        join(dir, `${name}-stream.mp4`)
      )
      const out = join(dir, `${name}.mp4`)
      await exec('ffmpeg', [
        '-v', 'error', '-ss', start.toFixed(2), '-i', stream, '-t', String(seconds),
        '-vf', `scale=${SOURCE.rescale}`, '-r', '25',
        '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', `${Math.round(rendition.videoKbps / 2)}k`, '-an', out,
      ])
      return out
    }

    let correct = 0
    let falseAccusations = 0
    let traceSeconds = 0
    for (let trial = 0; trial < TRIALS; trial++) {
      const session = sessions[pick(trial, 1, SESSIONS)]
      const start = (pick(trial, 2, 1000) / 1000) * (duration - CLIP_SECONDS - 1)
      const clip = await leak(session, start, CLIP_SECONDS, `trial-${trial}`)
      const { result, seconds } = await timed(() => traceLeak(clip, video.id))
      const outcome = result as TraceResult
      traceSeconds += seconds
      if (outcome.named?.sessionId === session.id) correct++
      else if (outcome.named) falseAccusations++
      console.error(
        `trial ${trial}: start ${start.toFixed(1)} s (read at ${outcome.offsetSeconds.toFixed(1)} s, ${outcome.offsetsTried} offset(s) tried), ${outcome.segments.length} segments, ` +
          `${outcome.named?.sessionId === session.id ? 'named the right session' : outcome.named ? 'NAMED AN INNOCENT SESSION' : 'named nobody'} (best p ${outcome.best?.pValue.toExponential(2)}), ${seconds.toFixed(1)} s`
      )
      await rm(clip, { force: true })
    }

    // The shortest clip that still names its session: from the fewest
    // segments the bound allows among SESSIONS, up by half a segment.
    const fewest = minimumSegments(SESSIONS)
    let shortest = NaN
    for (let seconds = fewest * mediaConfig.segmentSeconds; seconds <= CLIP_SECONDS; seconds += smokeOr(mediaConfig.segmentSeconds / 2, 4)) {
      const session = sessions[pick(TRIALS, 3, SESSIONS)]
      const clip = await leak(session, mediaConfig.segmentSeconds * 0.3, seconds, `short-${seconds}`)
      const outcome = await traceLeak(clip, video.id).catch((error) => ({ named: null, message: (error as Error).message }))
      console.error(`clip of ${seconds} s: ${outcome.named?.sessionId === session.id ? 'named its session' : outcome.message}`)
      if (outcome.named?.sessionId === session.id) {
        shortest = seconds
        break
      }
    }

    figure('forensic_trace_accuracy', correct / TRIALS, '')
    figure('forensic_false_accusations', falseAccusations, '')
    figure('forensic_trials', TRIALS, '')
    figure('forensic_min_clip_seconds', shortest, 's')
    figure('forensic_trace_seconds', traceSeconds / TRIALS, 's')
  } finally {
    mediaConfig.segmentSeconds = segmentSeconds
    mediaConfig.forensic.renditions.splice(0, Infinity, ...renditions)
  }
}
