import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readFile, readdir, rm, stat, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import * as tus from 'tus-js-client'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import Video from '#models/video'
import videos from '#services/video_service'
import { benchDir, exec, figure, source, timed, waitUntil } from './helpers.js'
import { benchCreator } from './fixtures.js'
import { WebClient } from '../tests/helpers/web_client.js'

const TARGET_BYTES = 2 * 1024 ** 3

/** A valid ~2 GB MPEG-TS video: one generated piece repeated (TS concatenates). */
async function twoGigabyteVideo() {
  const path = join(benchDir, 'upload-2gb.ts')
  if (((await stat(path).catch(() => null))?.size ?? 0) >= TARGET_BYTES) return path
  const piece = await source('upload-piece.ts', [
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '12M', '-c:a', 'aac', '-shortest', '-f', 'mpegts',
  ])
  const pieceBytes = await readFile(piece)
  const out = createWriteStream(path)
  for (let written = 0; written < TARGET_BYTES; written += pieceBytes.length) {
    if (!out.write(pieceBytes)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return path
}

/** Peak resident memory (VmHWM) of a process, in MB. */
async function peakRssMb(pid: number) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(status.match(/VmHWM:\s+(\d+) kB/)![1]) / 1024
}

/** The pid of the process listening on the test port (the web server itself). */
async function listenerPid(port: number) {
  const { stdout } = await exec('ss', ['-ltnpH', `sport = :${port}`])
  const match = stdout.match(/pid=(\d+)/)
  return match ? Number(match[1]) : null
}

/**
 * The production build (`node ace build`), wired to this checkout's
 * node_modules, as `npm ci --omit=dev` in build/ would wire it.
 */
async function productionBuild() {
  const root = app.makePath()
  const build = app.makePath('build')
  await exec(process.execPath, ['ace', 'build'], { cwd: root, maxBuffer: 1 << 24 })
  const modules = join(build, 'node_modules')
  await rm(modules, { recursive: true, force: true })
  await mkdir(join(modules, '@matinee'), { recursive: true })
  for (const name of await readdir(app.makePath('node_modules'))) {
    if (name !== '@matinee') await symlink(app.makePath('node_modules', name), join(modules, name))
  }
  await symlink('../../app/hooks', join(modules, '@matinee', 'plugin-kit'))
  return build
}

/**
 * Uploads a 2 GB video through tus to the production web server
 * (`node bin/server.js` of the build) and reports its peak RSS and the
 * throughput (to storage, end to end).
 */
export default async function uploadBench() {
  const path = await twoGigabyteVideo()
  const size = (await stat(path)).size
  const port = env.get('PORT')
  if (await listenerPid(port)) throw new Error(`port ${port} is taken: stop what listens there first`)
  const build = await productionBuild()
  const server = spawn(process.execPath, ['bin/server.js'], {
    cwd: build,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PLUGINS_EXTRA: '',
      MAX_UPLOAD_BYTES: String(4 * 1024 ** 3),
      STORAGE_LOCAL_ROOT: app.makePath(env.get('STORAGE_LOCAL_ROOT')),
      UPLOAD_TMP_DIR: app.makePath('tmp/bench-uploads'),
      FORCE_COLOR: '0',
      // As recommended for web nodes (README, Dockerfile): a small young
      // generation, so upload buffers are collected promptly.
      NODE_OPTIONS: process.env.WEB_NODE_OPTIONS ?? '--max-semi-space-size=1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let pid: number | null = null
  try {
    await waitUntil(async () => (pid = await listenerPid(port)) !== null, 60_000, 'the web server')
    console.error(`web server idle RSS: ${Math.round(await peakRssMb(pid!))} MB`)
    await benchCreator()
    const client = new WebClient()
    const login = await client.login('bench-creator@matinee.local', 'bench creator secret')
    if (login.location !== '/') throw new Error(`bench login failed: ${login.status}`)
    const csrf = (await client.get('/studio/videos/new')).text.match(/data-csrf="([^"]+)"/)![1]

    const { result: videoId, seconds } = await timed(
      () =>
        new Promise<string>((resolve, reject) => {
          const upload = new tus.Upload(createReadStream(path) as any, {
            endpoint: new URL('/studio/uploads', client.baseUrl).href,
            uploadSize: size,
            chunkSize: Number(process.env.BENCH_CHUNK_MB ?? 16) * 1024 * 1024,
            retryDelays: [],
            headers: { 'cookie': client.cookieHeader(), 'x-csrf-token': csrf },
            metadata: { filename: 'bench-2gb.ts', title: 'bench upload', price: '0', currency: 'USD', visibility: 'draft' },
            onError: reject,
            onSuccess: (payload: any) => resolve(JSON.parse(payload.lastResponse.getBody()).videoId),
          })
          upload.start()
        })
    )
    figure('upload_peak_rss_mb', Math.round(await peakRssMb(pid!)), 'MB')
    figure('upload_mb_s', size / 1024 ** 2 / seconds, 'MB/s')
    console.error(`${(size / 1024 ** 3).toFixed(2)} GB in ${seconds.toFixed(1)} s`)
    await videos.destroy(await Video.findOrFail(videoId))
  } finally {
    const exited = once(server, 'exit')
    server.kill('SIGTERM')
    const timer = setTimeout(() => server.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}
