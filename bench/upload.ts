import { createReadStream, createWriteStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import * as tus from 'tus-js-client'
import Video from '#models/video'
import videos from '#services/video_service'
import { benchDir, figure, smokeOr, source, timed } from './helpers.js'
import { benchCreator, startProductionServer } from './fixtures.js'
import { WebClient } from '../tests/helpers/web_client.js'

/** 2 GB (smoke: 24 MB, in 4 MB chunks, so the upload still takes several requests). */
const TARGET_BYTES = smokeOr(2 * 1024 ** 3, 24 * 1024 ** 2)
const CHUNK_BYTES = Number(process.env.BENCH_CHUNK_MB ?? smokeOr(16, 4)) * 1024 * 1024

/** A valid MPEG-TS video of TARGET_BYTES: one generated piece repeated (TS concatenates). */
async function largeVideo() {
  const path = join(benchDir, `upload-${TARGET_BYTES}.ts`)
  if (((await stat(path).catch(() => null))?.size ?? 0) >= TARGET_BYTES) return path
  const seconds = smokeOr(20, 2)
  const piece = await source(`upload-piece-${seconds}s.ts`, [
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '12M', '-c:a', 'aac', '-shortest', '-f', 'mpegts',
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

/**
 * Uploads a 2 GB video (smoke: 24 MB) through tus to the production web server
 * (`node bin/server.js` of the build) and reports its peak RSS and the
 * throughput (to storage, end to end).
 */
export default async function uploadBench() {
  const path = await largeVideo()
  const size = (await stat(path)).size
  const server = await startProductionServer({ MAX_UPLOAD_BYTES: String(4 * 1024 ** 3) })
  const pid = server.pid
  try {
    console.error(`web server idle RSS: ${Math.round(await peakRssMb(pid))} MB`)
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
            chunkSize: CHUNK_BYTES,
            retryDelays: [],
            headers: { 'cookie': client.cookieHeader(), 'x-csrf-token': csrf },
            metadata: { filename: 'bench-upload.ts', title: 'bench upload', price: '0', currency: 'USD', visibility: 'draft' },
            onError: reject,
            onSuccess: (payload: any) => resolve(JSON.parse(payload.lastResponse.getBody()).videoId),
          })
          upload.start()
        })
    )
    figure('upload_peak_rss_mb', Math.round(await peakRssMb(pid)), 'MB')
    figure('upload_mb_s', size / 1024 ** 2 / seconds, 'MB/s')
    console.error(`${(size / 1024 ** 3).toFixed(2)} GB in ${seconds.toFixed(1)} s`)
    await videos.destroy(await Video.findOrFail(videoId))
  } finally {
    await server.stop()
  }
}
