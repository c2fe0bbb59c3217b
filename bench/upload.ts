import { createReadStream, createWriteStream } from 'node:fs'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import * as tus from 'tus-js-client'
import Video from '#models/video'
import videos from '#services/video_service'
import { benchDir, figure, smokeOr, source, timed } from './helpers.js'
import { benchCreator, startProductionServer } from './fixtures.js'
import { WebClient } from '../tests/helpers/web_client.js'

/**
 * 2 GB, and 0.5 GB for comparison in the same run: the peak memory must not
 * grow with the file (smoke: 24 MB and 6 MB, in 4 MB chunks, so an upload
 * still takes several requests).
 */
const TARGET_BYTES = smokeOr(2 * 1024 ** 3, 24 * 1024 ** 2)
const COMPARISON_BYTES = smokeOr(512 * 1024 ** 2, 6 * 1024 ** 2)
const CHUNK_BYTES = Number(process.env.BENCH_CHUNK_MB ?? smokeOr(16, 4)) * 1024 * 1024

/** A valid MPEG-TS video of TARGET_BYTES: one generated piece repeated (TS concatenates). */
async function largeVideo(bytes: number) {
  const path = join(benchDir, `upload-${bytes}.ts`)
  if (((await stat(path).catch(() => null))?.size ?? 0) >= bytes) return path
  const seconds = smokeOr(20, 2)
  const piece = await source(`upload-piece-${seconds}s.ts`, [
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '12M', '-c:a', 'aac', '-shortest', '-f', 'mpegts',
  ])
  const pieceBytes = await readFile(piece)
  const out = createWriteStream(path)
  for (let written = 0; written < bytes; written += pieceBytes.length) {
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
 * Uploads a video through tus to a fresh production web server (`node
 * bin/server.js` of the build; the shared upload folder, then local storage)
 * and returns the server's peak RSS and the throughput (to storage, end to end).
 */
async function uploadThrough(bytes: number) {
  const path = await largeVideo(bytes)
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
    // The login hashes a password with Argon2id (64 MiB): that peak is the
    // login's, not the upload's. Reset the high-water mark (clear_refs 5)
    // so the figure is the peak while the upload runs.
    console.error(`after login and the upload page: peak RSS ${Math.round(await peakRssMb(pid))} MB`)
    await writeFile(`/proc/${pid}/clear_refs`, '5')
    console.error(`peak reset to the current RSS: ${Math.round(await peakRssMb(pid))} MB`)

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
    const peak = await peakRssMb(pid)
    console.error(`${(size / 1024 ** 3).toFixed(2)} GB in ${seconds.toFixed(1)} s, peak RSS ${Math.round(peak)} MB`)
    await videos.destroy(await Video.findOrFail(videoId))
    return { size, seconds, peak }
  } finally {
    await server.stop()
  }
}

const label = (bytes: number) => (bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3}gb` : `${Math.round(bytes / 1024 ** 2)}mb`).replace('.', '_')

/**
 * The 2 GB upload (smoke: 24 MB) and a 0.5 GB one (smoke: 6 MB), each on a
 * fresh server: `upload_peak_rss_mb` is the 2 GB one's, printed next to the
 * smaller one's, so that growth with the file's size shows in one run.
 */
export default async function uploadBench() {
  const small = await uploadThrough(COMPARISON_BYTES)
  const large = await uploadThrough(TARGET_BYTES)
  figure(`upload_peak_rss_mb_${label(COMPARISON_BYTES)}`, Math.round(small.peak), 'MB')
  figure('upload_peak_rss_mb', Math.round(large.peak), 'MB')
  figure('upload_mb_s', large.size / 1024 ** 2 / large.seconds, 'MB/s')
}
