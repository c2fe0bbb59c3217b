/*
| Playback benchmark (make bench B=playback), against the production build:
|   session_first_segment_ms_p50/_p95   open a session → first byte of the first
|                                       watermarked 480p segment, cold, 10 sessions
|                                       per video (60 s and 20 min), and beside it
|   session_first_segment_ms_whole_video  the same when one FFmpeg process
|                                       watermarks the whole video up front
|   watermarked_sessions_realtime       most concurrent 480p sessions that never
|                                       stall a realtime player
|   protected_sessions_realtime         the same for forensic (A/B) sessions, in
|                                       steps (250, 500, 1000, ...) until a segment
|                                       is late, 20 viewers pressing play a second;
|                                       protected_session_start_ms_p95
|                                       beside it (press play → first segment)
|   segment_proxy_rps(_nginx), segment_proxy_p99_ms(_nginx)
|                                       signed, checked segment requests at 100
|                                       connections, against nginx serving the files
| The load generators share the machine's cores with the server: wrk (C) for
| the proxy figures, and for the forensic viewers this process itself, each
| viewer a few lines of async code over one keep-alive undici pool (up to
| 512 connections), reading and dropping the bodies. On a 2-core machine the
| viewers' client costs about as much CPU as serving them.
| BENCH_PARTS picks parts (first,realtime,protected,proxy), BENCH_PROTECTED_STEPS,
| _SEGMENTS and _JOINS_PER_SECOND shape the forensic steps, BENCH_RPS_SECONDS the load.
| Smoke (BENCH_SMOKE=1): 8 s and 16 s videos, 2 viewers, 2 sessions each,
| 4 forensic viewers, 1 s of load.
*/
import { spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import mediaConfig from '#config/media'
import playbackConfig from '#config/playback'
import User from '#models/user'
import Video from '#models/video'
import plugins from '#services/plugins'
import storage from '#services/storage_service'
import { hlsKeys } from '#services/media/storage_keys'
import watermarks from '#services/watermark/just_in_time'
import transcoder from '#services/transcode_service'
import type { VisibleWatermarker } from '#hooks/contracts'
import { benchDir, exec, figure, smokeOr, source, waitUntil } from './helpers.js'
import { benchCreator, startProductionServer, startWorker, stopWorker } from './fixtures.js'
import { Pool } from 'undici'
import { WebClient } from '../tests/helpers/web_client.js'

const SEGMENT = mediaConfig.segmentSeconds
/** maxBufferLength of hls.js on watermarked sessions (public/js/player.js). */
const WATERMARKED_BUFFER_SECONDS = 16
const PASSWORD = 'bench viewer secret'

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/**
 * A 854x480 source of `seconds`, transcoded once by the real pipeline and
 * kept between runs. A `forensic` one gets A/B variants of its 480p rendition
 * only (FORENSIC_RENDITIONS=480p for this transcode), the one its viewers play.
 */
export async function benchVideo(seconds: number, title: string, mode: 'visible' | 'forensic' = 'visible') {
  const creator = await benchCreator()
  const existing = await Video.query().where({ ownerId: creator.id, title, status: 'ready' }).first()
  if (existing && (await storage.head(hlsKeys.master(existing.hlsPrefix)))) return existing
  const path = await source(`playback-480p-${seconds}s.mp4`, [
    '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-shortest',
  ])
  const video = await Video.create({
    id: crypto.randomUUID(),
    ownerId: creator.id,
    title,
    status: 'queued',
    visibility: 'published',
    priceMinor: 0,
    currency: 'USD',
    watermarkEnabled: true,
    watermarkMode: mode === 'forensic' ? 'forensic' : null,
    sourceKey: 'pending',
    sourceFilename: 'bench.mp4',
    sourceSize: (await stat(path)).size,
  })
  video.sourceKey = `${video.storagePrefix}source/master.mp4`
  await video.save()
  await storage.put(video.sourceKey, createReadStream(path))
  console.error(`transcoding the ${title} video...`)
  const renditions = mediaConfig.forensic.renditions
  mediaConfig.forensic.renditions = ['480p']
  const outcome = await transcoder.process({ videoId: video.id }).finally(() => (mediaConfig.forensic.renditions = renditions))
  if (outcome !== 'ready') throw new Error(`bench video ${title}: ${outcome}`)
  return (await Video.find(video.id))!
}

/** Logged-in viewers (one session each, so the per-viewer limit never interferes). */
async function viewers(count: number, prefix = 'bench_viewer') {
  const clients: WebClient[] = []
  for (let i = 0; i < count; i++) {
    const username = `${prefix}_${i}`
    if (!(await User.findBy('username', username))) {
      await User.create({ username, email: `${username}@matinee.local`, password: PASSWORD, role: 'viewer' })
    }
    const client = new WebClient()
    const login = await client.login(username, PASSWORD)
    if (login.location !== '/') throw new Error(`bench login of ${username} failed: ${login.status}`)
    clients.push(client)
  }
  return clients
}

export const uriLines = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('#'))

/** Opens a session and returns the segment URLs of its 480p rendition. */
async function openSession(client: WebClient, video: Video) {
  const opened = await client.api('POST', `/videos/${video.id}/playback`)
  if (opened.status !== 201) throw new Error(`open: ${opened.status} ${JSON.stringify(opened.body)}`)
  const master = (await client.get(opened.body.masterUrl)).text
  const variant = uriLines(master).find((uri) => uri.includes('/480p/'))
  if (!variant) throw new Error('no 480p rendition in the master playlist')
  return { sessionId: opened.body.sessionId as string, segments: uriLines((await client.get(variant)).text) }
}

/** Time to the first byte of a response body. */
async function firstByte(client: WebClient, url: string) {
  const response = await fetch(new URL(url, client.baseUrl), { headers: { cookie: client.cookieHeader() } })
  const reader = response.body!.getReader()
  await reader.read()
  await reader.cancel()
  if (response.status !== 200) throw new Error(`segment answered ${response.status}`)
}

async function firstSegmentTimes(client: WebClient, video: Video, sessions = smokeOr(10, 2)) {
  const times: number[] = []
  for (let i = 0; i < sessions; i++) {
    const started = performance.now()
    const { sessionId, segments } = await openSession(client, video)
    await firstByte(client, segments[0])
    times.push(performance.now() - started)
    await client.api('DELETE', `/playback/${sessionId}`)
    // Let the lookahead of this session drain so the next one starts cold.
    await new Promise((resolve) => setTimeout(resolve, 1500))
  }
  return times
}

/** One FFmpeg process watermarks the whole 480p rendition up front. */
async function wholeVideoSeconds(video: Video) {
  const watermarker = plugins.watermarks.get(playbackConfig.watermark.watermarker) as VisibleWatermarker
  const rendition = video.renditions!.find((r) => r.name === '480p')!
  const filter = await watermarker.buildFilter({
    session: { sessionId: 'bench', userId: 0, username: 'bench', text: '@bench · WHOLE1', seed: Buffer.from('bench') },
    startSeconds: 0,
    durationSeconds: video.durationSeconds!,
    width: rendition.width,
    height: rendition.height,
    intervalSeconds: playbackConfig.watermark.intervalSeconds,
  })
  const out = join(benchDir, 'whole-video-hls')
  await rm(out, { recursive: true, force: true })
  await mkdir(out, { recursive: true })
  // The filter is long for a long video: hand it over in a file.
  const script = join(out, 'filter.txt')
  await writeFile(script, filter)
  const input = app.makePath(env.get('STORAGE_LOCAL_ROOT'), `${video.hlsPrefix}${rendition.playlist}`)
  const started = performance.now()
  await exec('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-copyts', '-i', input,
    '-filter_script:v', script,
    // The same encoder settings as a just-in-time render, with a keyframe per segment.
    ...watermarks.encoderArgs(rendition, null), '-force_key_frames', `expr:gte(t,n_forced*${SEGMENT})`,
    '-f', 'hls', '-hls_time', String(SEGMENT), '-hls_playlist_type', 'vod', '-hls_segment_filename', join(out, 'wm_%05d.ts'),
    join(out, 'index.m3u8'),
  ], { maxBuffer: 1 << 24 })
  return (performance.now() - started) / 1000
}

/**
 * `count` players at once, each playing `segments` segments in real time
 * after its first one arrives, fetching in order and keeping the buffer
 * public/js/player.js asks hls.js for on watermarked sessions. A player
 * stalls when a segment arrives after its play time.
 */
async function realtimeStep(clients: WebClient[], video: Video, segments: number) {
  const results = await Promise.all(
    clients.map(async (client) => {
      const session = await openSession(client, video)
      await firstByte(client, session.segments[0])
      const playStart = performance.now()
      let lateMs = Number.NEGATIVE_INFINITY
      for (let i = 1; i < segments; i++) {
        while (i * SEGMENT - (performance.now() - playStart) / 1000 > WATERMARKED_BUFFER_SECONDS) {
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        const response = await client.bytes(session.segments[i])
        if (response.status !== 200) throw new Error(`segment ${i}: ${response.status}`)
        lateMs = Math.max(lateMs, performance.now() - playStart - i * SEGMENT * 1000)
      }
      await client.api('DELETE', `/playback/${session.sessionId}`)
      return lateMs
    })
  )
  return Math.max(...results)
}

/** hls.js's default forward buffer (maxBufferLength), which public/js/player.js keeps for unwatermarked sessions. */
const FORENSIC_BUFFER_SECONDS = 30

/** The cookies a response sets, merged into a cookie header (a browser's jar, minus paths and expiry). */
export function withSetCookies(cookieHeader: string, setCookie: string | string[] | undefined) {
  const jar = new Map(cookieHeader.split('; ').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]))
  for (const line of [setCookie ?? []].flat()) {
    const [pair] = line.split(';')
    const index = pair.indexOf('=')
    const value = pair.slice(index + 1).trim()
    if (!value || /max-age=0/i.test(line)) jar.delete(pair.slice(0, index).trim())
    else jar.set(pair.slice(0, index).trim(), value)
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}

/**
 * A GET through the keep-alive pool, the body read and dropped as it arrives
 * (no buffering, so the client costs little of the CPU it shares with the
 * server); its size. Like a browser, it retries once when a kept-alive
 * connection turns out closed.
 */
export async function drainedGet(pool: Pool, path: string, cookie: string, retry = true): Promise<number> {
  try {
    const { statusCode, headers, body } = await pool.request({ method: 'GET', path, headers: { cookie } })
    await body.dump({ limit: 1 << 30 })
    if (statusCode !== 200) throw new Error(`GET ${path.split('?')[0]} answered ${statusCode}`)
    return Number(headers['content-length'])
  } catch (error) {
    const code = (error as { code?: string }).code
    if (retry && (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')) return drainedGet(pool, path, cookie, false)
    throw error
  }
}

export async function textGet(pool: Pool, path: string, cookie: string) {
  const { statusCode, body } = await pool.request({ method: 'GET', path, headers: { cookie } })
  const text = await body.text()
  if (statusCode !== 200) throw new Error(`GET ${path.split('?')[0]} answered ${statusCode}: ${text.slice(0, 200)}`)
  return text
}

/**
 * One forensic viewer as a browser with hls.js plays: opens its own playback
 * session (a browser of its own: the logged-in cookies copied, so the open
 * gives it its own playback device), reads the master and 480p playlists and
 * the init segment, then fetches segments in order, keeping
 * FORENSIC_BUFFER_SECONDS ahead of the play head once the first arrived.
 * Returns how late its latest segment was (negative: early) and its start-up.
 */
async function forensicViewer(pool: Pool, login: { cookie: string; csrf: string }, video: Video, segments: number) {
  const clicked = performance.now()
  const opened = await pool.request({
    method: 'POST',
    path: `/videos/${video.id}/playback`,
    headers: { 'cookie': login.cookie, 'accept': 'application/json', 'x-csrf-token': login.csrf },
  })
  const answer = (await opened.body.json()) as { sessionId: string; masterUrl: string; forensic: boolean }
  if (opened.statusCode !== 201 || !answer.forensic) throw new Error(`open: ${opened.statusCode} ${JSON.stringify(answer)}`)
  const cookie = withSetCookies(login.cookie, opened.headers['set-cookie'])
  const openedAt = performance.now()
  try {
    const variant = uriLines(await textGet(pool, answer.masterUrl, cookie)).find((uri) => uri.includes('/480p/'))
    if (!variant) throw new Error('no 480p rendition in the forensic master playlist')
    const playlist = await textGet(pool, variant, cookie)
    const init = playlist.match(/#EXT-X-MAP:URI="([^"]+)"/)?.[1]
    const uris = uriLines(playlist)
    if (!init || uris.length < segments) throw new Error(`the 480p playlist has ${uris.length} segments, ${segments} needed`)
    const listed = performance.now()
    await drainedGet(pool, init, cookie)
    await drainedGet(pool, uris[0], cookie)
    const playStart = performance.now()
    const phases = { openMs: openedAt - clicked, playlistsMs: listed - openedAt, firstSegmentMs: playStart - listed }
    let lateMs = Number.NEGATIVE_INFINITY
    for (let i = 1; i < segments; i++) {
      // The player asks for segment i once it would be within the buffer of the play head.
      const due = playStart + (i * SEGMENT - FORENSIC_BUFFER_SECONDS) * 1000
      if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()))
      await drainedGet(pool, uris[i], cookie)
      lateMs = Math.max(lateMs, performance.now() - playStart - i * SEGMENT * 1000)
    }
    return { lateMs, startMs: playStart - clicked, ...phases }
  } finally {
    await pool.request({ method: 'DELETE', path: `/playback/${answer.sessionId}`, headers: { cookie, 'accept': 'application/json', 'x-csrf-token': login.csrf } }).then((r) => r.body.dump())
  }
}

/**
 * `count` forensic viewers, pressing play `joinsPerSecond` a second (a
 * premiere's audience does not press play in the same millisecond, and each
 * new player first fills its 30 s buffer at full speed), each playing
 * `segments` segments. The worst lateness of any segment of any viewer (a
 * failed request counts as late), and the start-up times.
 */
async function protectedStep(pool: Pool, logins: Array<{ cookie: string; csrf: string }>, video: Video, count: number, segments: number, joinsPerSecond: number) {
  const started = performance.now()
  const outcomes = await Promise.all(
    Array.from({ length: count }, async (_, viewer) => {
      await new Promise((resolve) => setTimeout(resolve, (viewer / joinsPerSecond) * 1000))
      return forensicViewer(pool, logins[viewer % logins.length], video, segments).catch((error: Error) => ({ lateMs: Number.POSITIVE_INFINITY, startMs: Number.NaN, error }))
    })
  )
  const failures = outcomes.filter((outcome) => 'error' in outcome)
  if (failures.length) console.error(`${failures.length} of ${count} viewers failed, the first: ${(failures[0] as { error: Error }).error.message}`)
  const played = outcomes.filter((outcome) => !('error' in outcome)) as Array<Awaited<ReturnType<typeof forensicViewer>>>
  const p95 = (phase: 'startMs' | 'openMs' | 'playlistsMs' | 'firstSegmentMs') => (played.length ? Math.round(percentile(played.map((outcome) => outcome[phase]), 95)) : Number.NaN)
  return {
    lateMs: Math.max(...outcomes.map((outcome) => outcome.lateMs)),
    startP95: p95('startMs'),
    /** Where start-up goes (p95 of each): open, the two playlists, init and first segment. */
    phases: `open ${p95('openMs')} ms, playlists ${p95('playlistsMs')} ms, init + first segment ${p95('firstSegmentMs')} ms`,
    seconds: (performance.now() - started) / 1000,
  }
}

/** nginx (Debian's) serving the storage folder on loopback, started and stopped here. */
async function startNginx(port: number, workers: number | 'auto', front?: { appPort: number; accelPrefix: string }) {
  const dir = join(benchDir, 'nginx')
  await rm(dir, { recursive: true, force: true })
  await mkdir(join(dir, 'tmp'), { recursive: true })
  const root = app.makePath(env.get('STORAGE_LOCAL_ROOT'))
  await writeFile(
    join(dir, 'nginx.conf'),
    `worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  types { video/iso.segment m4s; }
  ${
    front
      ? `upstream matinee { server 127.0.0.1:${front.appPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://matinee; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location ${front.accelPrefix} { internal; alias ${root}/; }
  }`
      : `server { listen 127.0.0.1:${port}; root ${root}; }`
  }
}
`
  )
  const child = spawn('/usr/sbin/nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] })
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => null)) !== null, 10_000, 'nginx')
  return {
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGQUIT')
      await exited
    },
  }
}

/**
 * wrk (C, two threads) at 100 connections, cycling through `paths`: the load
 * generator must not be the bottleneck it would be in Node.
 */
export async function load(url: string, paths: string[], headers: Record<string, string>) {
  const script = join(benchDir, `wrk-${Date.now()}.lua`)
  await writeFile(
    script,
    `local paths = {${paths.map((path) => JSON.stringify(path)).join(', ')}}
${Object.entries(headers).map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`).join('\n')}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
`
  )
  try {
    const seconds = process.env.BENCH_RPS_SECONDS ?? smokeOr('15', '1')
    // A slow answer is a latency, not an error: wrk's own 2 s timeout would count it as a socket error.
    const { stdout } = await exec('wrk', ['-t2', '-c100', `-d${seconds}s`, '--timeout', '30s', '--latency', '-s', script, url], { maxBuffer: 1 << 20 })
    if (/Non-2xx or 3xx responses: \d+/.test(stdout) || /Socket errors/.test(stdout)) throw new Error(`load on ${url} had errors:\n${stdout}`)
    const rps = Number(stdout.match(/Requests\/sec:\s+([\d.]+)/)![1])
    const [, value, unit] = stdout.match(/\s99%\s+([\d.]+)(us|ms|s)/)!
    const p99 = Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1)
    return { rps, p99, transfer: stdout.match(/Transfer\/sec:\s+(\S+)/)?.[1] }
  } finally {
    await rm(script, { force: true })
  }
}

/** Which parts to run (BENCH_PARTS=first,realtime,protected,proxy; default all). */
const parts = new Set((process.env.BENCH_PARTS ?? 'first,realtime,protected,proxy').split(','))

/**
 * Grows the number of concurrent forensic viewers (BENCH_PROTECTED_STEPS)
 * until a segment is late, on a 2-minute forensic video.
 */
async function protectedSessions(clients: WebClient[]) {
  const video = await benchVideo(...smokeOr<[number, string]>([120, 'bench forensic 2 min'], [8, 'bench forensic 8 s']), 'forensic')
  // Every logged-in viewer's cookies and CSRF token: the simulated browsers copy them.
  const logins = await Promise.all(
    clients.map(async (client) => {
      const csrf = (await client.get('/')).text.match(/<meta name="csrf-token" content="([^"]+)">/)?.[1]
      if (!csrf) throw new Error('no csrf-token meta tag on the home page')
      return { cookie: client.cookieHeader(), csrf }
    })
  )
  const steps = (process.env.BENCH_PROTECTED_STEPS ?? smokeOr('250,500,1000,1500,2000,2500,3000', '4')).split(',').map(Number)
  const segments = Number(process.env.BENCH_PROTECTED_SEGMENTS ?? smokeOr(24, 2))
  const joinsPerSecond = Number(process.env.BENCH_PROTECTED_JOINS_PER_SECOND ?? smokeOr(20, 4))
  let best = 0
  let bestStart = Number.NaN
  for (const count of steps) {
    const pool = new Pool(new URL(clients[0].baseUrl).origin, { connections: Math.min(count, 512), pipelining: 1 })
    try {
      const step = await protectedStep(pool, logins, video, count, segments, joinsPerSecond)
      const worst = step.lateMs > 0 ? `${Number.isFinite(step.lateMs) ? Math.round(step.lateMs) : '∞'} ms late` : `${Math.round(-step.lateMs)} ms early`
      console.error(`${count} forensic viewers (${segments} segments, ${joinsPerSecond} joining a second, ${step.seconds.toFixed(0)} s): worst segment ${worst}, start-up p95 ${Math.round(step.startP95)} ms (${step.phases})`)
      if (step.lateMs > 0) break
      best = count
      bestStart = step.startP95
    } finally {
      await pool.close()
    }
  }
  figure('protected_sessions_realtime', best, 'sessions')
  if (best) figure('protected_session_start_ms_p95', Math.round(bestStart), 'ms')
}

export default async function playbackBench() {
  // Only the videos the chosen parts play (the 20-minute one takes minutes to transcode the first time).
  const short = parts.has('first') || parts.has('proxy') ? await benchVideo(...smokeOr<[number, string]>([60, 'bench playback 60 s'], [8, 'bench playback 8 s'])) : null!
  const long = parts.has('first') || parts.has('realtime') ? await benchVideo(...smokeOr<[number, string]>([20 * 60, 'bench playback 20 min'], [16, 'bench playback 16 s'])) : null!
  // Admission control off: the bench measures how many visible sessions the
  // pool itself keeps ahead of realtime, so it must not turn them away (503).
  // Web sessions in signed cookies, so a simulated forensic viewer can copy a
  // login and still open a session from a browser (playback device) of its
  // own; few viewer accounts then hold thousands of sessions.
  const viewerLimits = { SESSION_DRIVER: 'cookie', PLAYBACK_MAX_SESSIONS: '100000', RATE_LIMIT_PLAYBACK_OPEN: '1000000/1m' }
  let server = await startProductionServer({ ...viewerLimits, WATERMARK_ADMISSION_BACKLOG: '1000000' })
  const worker = startWorker({}, ['watermark', 'watermark_ahead'])
  try {
    const clients = await viewers(smokeOr(16, 2))

    // 1. First segment of a new session, cold.
    const all: number[] = []
    if (parts.has('first')) for (const [label, video] of [['60s', short], ['20min', long]] as const) {
      const times = await firstSegmentTimes(clients[0], video)
      all.push(...times)
      figure(`session_first_segment_ms_p50_${label}`, Math.round(percentile(times, 50)), 'ms')
      figure(`session_first_segment_ms_p95_${label}`, Math.round(percentile(times, 95)), 'ms')
    }
    if (parts.has('first')) {
      figure('session_first_segment_ms_p50', Math.round(percentile(all, 50)), 'ms')
      figure('session_first_segment_ms_p95', Math.round(percentile(all, 95)), 'ms')
      figure('session_first_segment_ms_whole_video', Math.round((await wholeVideoSeconds(short)) * 1000), 'ms')
      figure('session_first_segment_ms_whole_video_20min', Math.round((await wholeVideoSeconds(long)) * 1000), 'ms')
    }

    // 2. Concurrent realtime sessions: grow until one stalls.
    let best = 0
    for (let count = 2; parts.has('realtime') && count <= clients.length; count += 2) {
      const lateMs = await realtimeStep(clients.slice(0, count), long, Number(process.env.BENCH_REALTIME_SEGMENTS ?? smokeOr(10, 2)))
      console.error(`${count} sessions: worst segment ${lateMs > 0 ? `${Math.round(lateMs)} ms late` : `${Math.round(-lateMs)} ms early`}`)
      if (lateMs > 0) break
      best = count
    }
    if (parts.has('realtime')) figure('watermarked_sessions_realtime', best, 'sessions')

    // 3. The same for forensic sessions: files served, nothing rendered.
    // Accounts of their own: a login that already opened a session carries its playback
    // device, and copies of it would then replace each other's sessions.
    if (parts.has('protected')) await protectedSessions(await viewers(smokeOr(16, 2), 'bench_forensic_viewer'))

    // 4. Segment proxy against nginx: a video without watermark.
    if (!parts.has('proxy')) return
    short.watermarkEnabled = false
    await short.save()
    const { sessionId, segments } = await openSession(clients[0], short)
    const base = new URL(clients[0].baseUrl)
    const proxied = await load(base.origin, segments, { cookie: clients[0].cookieHeader() })
    const nginxPort = Number(base.port) + 100
    const files = segments.map((url) => `/${short.hlsPrefix}480p/${new URL(url, base).pathname.split('/').pop()}`)
    // The peer is one nginx worker against the one Node process of a web
    // node (same core budget); nginx on every core is printed beside it.
    const peers: Record<string, Awaited<ReturnType<typeof load>>> = {}
    try {
      for (const workers of [1, 'auto'] as const) {
        const nginx = await startNginx(nginxPort, workers)
        try {
          peers[workers] = await load(`http://127.0.0.1:${nginxPort}`, files, {})
        } finally {
          await nginx.stop()
        }
      }
      figure('segment_proxy_rps', Math.round(proxied.rps), 'req/s')
      figure('segment_proxy_rps_nginx', Math.round(peers[1].rps), 'req/s')
      figure('segment_proxy_rps_nginx_all_cores', Math.round(peers.auto.rps), 'req/s')
      figure('segment_proxy_p99_ms', proxied.p99, 'ms')
      figure('segment_proxy_p99_ms_nginx', peers[1].p99, 'ms')
      figure('segment_proxy_rps_ratio', proxied.rps / peers[1].rps, 'x')

      // The production set-up for local storage: nginx in front, the app checks
      // every request and answers X-Accel-Redirect, nginx sends the file.
      await server.stop()
      server = await startProductionServer({ ...viewerLimits, STORAGE_ACCEL_REDIRECT_PREFIX: '/_protected/' })
      const front = await startNginx(nginxPort, 1, { appPort: Number(base.port), accelPrefix: '/_protected/' })
      try {
        const accel = await load(`http://127.0.0.1:${nginxPort}`, segments, { cookie: clients[0].cookieHeader() })
        figure('segment_proxy_rps_accel', Math.round(accel.rps), 'req/s')
        figure('segment_proxy_p99_ms_accel', accel.p99, 'ms')
        figure('segment_proxy_rps_accel_ratio', accel.rps / peers[1].rps, 'x')
      } finally {
        await front.stop()
      }
      console.error(`transfer/s: app ${proxied.transfer}, nginx ${peers[1].transfer} (1 worker), ${peers.auto.transfer} (auto)`)
    } finally {
      await clients[0].api('DELETE', `/playback/${sessionId}`)
      short.watermarkEnabled = true
      await short.save()
    }
  } finally {
    await stopWorker(worker)
    await server.stop()
  }
}
