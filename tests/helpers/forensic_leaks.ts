import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import User from '#models/user'
import type Video from '#models/video'
import PlaybackSession from '#models/playback_session'
import { hlsKeys } from '#services/media/storage_keys'
import { variantFor } from '#services/watermark/forensic_sequence'
import { joinSegments } from '#tests/helpers/forensic'
import { readStored } from '#tests/helpers/videos'

/**
 * Leaked clips for the tracer's tests: a forensic video's viewers, the
 * stream one of them received, and a re-encoded recording of it.
 */

export const exec = promisify(execFile)
const pathOf = (key: string) => app.makePath(env.get('STORAGE_LOCAL_ROOT'), key)

/** A source of `seconds` of FFmpeg's test picture (`pattern`: testsrc2, testsrc...), small and quick to encode. */
export async function source(dir: string, pattern: string, seconds: number) {
  const path = join(dir, `${pattern}-${seconds}.mp4`)
  await exec('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `${pattern}=size=640x360:rate=30`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path])
  return path
}

/** The file a viewer of `sessionId` would have received: the rendition's init and each segment's variant (or the unmarked segment). */
export async function servedStream(video: Video, rendition: string, out: string, sessionId: string | null) {
  const playlist = await readStored(hlsKeys.file(video.hlsPrefix, `${rendition}/index.m3u8`))
  const init = pathOf(hlsKeys.init(video.hlsPrefix, rendition, playlist.match(/#EXT-X-MAP:URI="([^"]+)"/)![1]))
  const indices = [...playlist.matchAll(/seg_(\d+)\.m4s/g)].map((m) => Number(m[1]))
  const segments = indices.map((i) =>
    pathOf(sessionId === null ? hlsKeys.segment(video.hlsPrefix, rendition, i) : hlsKeys.variantSegment(video.hlsPrefix, rendition, variantFor(sessionId, video.id, i) === 'A' ? 'a' : 'b', i))
  )
  return joinSegments(init, segments, out)
}

/** A leak: recorded from `start` for `seconds`, re-encoded at half the rendition's bitrate, rescaled, another frame rate, brighter. */
export async function leak(stream: string, out: string, start: number, seconds: number, kbps: number) {
  await exec('ffmpeg', [
    '-v', 'error', '-ss', String(start), '-i', stream, '-t', String(seconds),
    '-vf', 'scale=256:144,eq=brightness=0.04:contrast=1.1', '-r', '25',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', `${kbps}k`, '-an', out,
  ])
  return out
}

/** `count` viewers (viewer0, viewer1...), each with a playback session of `video` (user agent TestBrowser/i). */
export async function sessionsOf(video: Video, count: number) {
  const sessions: PlaybackSession[] = []
  for (let i = 0; i < count; i++) {
    const user = await User.create({ username: `viewer${i}`, email: `viewer${i}@example.com`, password: 'correct horse battery', role: 'viewer' })
    sessions.push(
      await PlaybackSession.create({
        id: randomUUID(), userId: user.id, videoId: video.id, deviceId: `device-${i}`, userAgent: `TestBrowser/${i}`, watermarked: false,
        expiresAt: DateTime.now().plus({ hours: 1 }), lastSeenAt: DateTime.now(),
      })
    )
  }
  return sessions
}
