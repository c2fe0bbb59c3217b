import { randomUUID } from 'node:crypto'
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import mediaConfig from '#config/media'
import { probe } from '#services/media/probe'
import { run } from '#services/media/ffmpeg'
import { forensicLabels, hlsCommand, outputFps, planLadder, variantStreamName, type ForensicOutput } from '#services/media/ladder'
import { FORENSIC_VARIANTS, forensicKey, forensicWatermarker, planForensicOutput } from '#services/media/forensic_variants'
import { joinSegments, psnr, ssim } from '#tests/helpers/forensic'
import { benchDir, exec, figure, smokeOr, source, timed } from './helpers.js'

/** 30 s of 720p30 with audio, a moving test pattern with film-like grain (smoke: 2 s of 360p). */
const forensicSource = () => {
  const [size, seconds] = smokeOr(['1280x720', 30], ['640x360', 2])
  return source(`forensic-source-${size}-${seconds}s.mp4`, [
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30,noise=alls=6:allf=t`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-shortest',
  ])
}

/** Bytes of the segments, playlists and init segments under a folder. */
async function bytesUnder(dir: string, only = (_name: string) => true) {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && only(entry.name)) total += (await stat(join(entry.parentPath, entry.name))).size
  }
  return total
}

/** The segments of one HLS rendition folder behind its init segment, as one file. */
async function joined(dir: string, out: string) {
  const playlist = await readdir(dir)
  const init = playlist.find((name) => /^init(_\d+)?\.mp4$/.test(name))!
  const segments = playlist.filter((name) => name.endsWith('.m4s')).sort()
  return joinSegments(join(dir, init), segments.map((name) => join(dir, name)), out)
}

/**
 * What the forensic A/B mark costs, on the ladder of a 720p source:
 * - transcode time with A/B variants of every rendition over without (the
 *   bare single-process FFmpeg command the worker runs, best of two);
 * - quality of each variant against the unmarked rendition (PSNR, SSIM; the
 *   figures are the worst rendition's worst variant), and the mark alone
 *   before encoding;
 * - storage with and without variants.
 */
export default async function forensicBench() {
  const path = await forensicSource()
  const info = await probe(path)
  const renditions = planLadder(info, mediaConfig.ladder)
  const base = {
    input: path,
    demuxer: info.demuxer,
    renditions,
    fps: outputFps(info.fps, mediaConfig.maxFps),
    segmentSeconds: mediaConfig.segmentSeconds,
    durationSeconds: info.durationSeconds,
    hasAudio: info.hasAudio,
    preset: mediaConfig.x264Preset,
  }
  const video = { id: randomUUID(), forensicOn: true }
  const dir = join(benchDir, 'forensic')
  const plainDir = join(dir, 'plain')
  const markedDir = join(dir, 'marked')
  const variantsDir = join(dir, 'variants')
  console.error(`ladder: ${renditions.map((r) => r.name).join(' ')}, preset ${mediaConfig.x264Preset}, ${info.durationSeconds.toFixed(1)} s`)

  let forensic: ForensicOutput | undefined
  let without = Infinity
  let withVariants = Infinity
  for (let round = 0; round < smokeOr(2, 1); round++) {
    await rm(dir, { recursive: true, force: true })
    await mkdir(plainDir, { recursive: true })
    await mkdir(markedDir, { recursive: true })
    without = Math.min(without, (await timed(() => run('ffmpeg', hlsCommand({ ...base, outDir: plainDir })))).seconds)
    forensic = await planForensicOutput(video, renditions, variantsDir)
    withVariants = Math.min(withVariants, (await timed(() => run('ffmpeg', hlsCommand({ ...base, outDir: markedDir, forensic })))).seconds)
  }

  let worstPsnr = Infinity
  let worstSsim = Infinity
  for (const rendition of renditions) {
    const unmarked = await joined(join(markedDir, rendition.name), join(dir, `${rendition.name}-u.mp4`))
    for (const variant of FORENSIC_VARIANTS) {
      const marked = await joined(join(variantsDir, variantStreamName(rendition.name, variant)), join(dir, `${rendition.name}-${variant}.mp4`))
      const [decibels, similarity] = [await psnr(marked, unmarked), await ssim(marked, unmarked)]
      console.error(`${rendition.name} ${variant}: PSNR ${decibels.toFixed(2)} dB, SSIM ${similarity.toFixed(4)} against the unmarked rendition`)
      worstPsnr = Math.min(worstPsnr, decibels)
      worstSsim = Math.min(worstSsim, similarity)
    }
  }

  // The mark alone, before any encoding: variant A's frames against the
  // same frames unmarked, at the top rendition's size.
  const top = renditions.reduce((a, b) => (a.height >= b.height ? a : b))
  const labels = forensicLabels(0, 'A')
  const fragment = await forensicWatermarker().variantFilter({ videoId: video.id, key: forensicKey(video.id), rendition: top.name, width: top.width, height: top.height, variant: 'A', ...labels })
  const { stderr } = await exec('ffmpeg', [
    '-hide_banner', '-nostats', '-i', path, '-filter_complex',
    `[0:v]scale=${top.width}:${top.height},format=yuv420p,split[ref][${labels.inLabel}];${fragment};[${labels.outLabel}][ref]psnr`,
    '-f', 'null', '-',
  ])
  const markAlone = Number(stderr.match(/PSNR .* average:([\d.]+)/)![1])

  const plainBytes = await bytesUnder(plainDir)
  // Stored per variant: its segments only (it shares the rendition's init segment and playlist).
  const variantBytes = await bytesUnder(variantsDir, (name) => name.endsWith('.m4s'))

  figure('forensic_mark_psnr_db', worstPsnr, 'dB')
  figure('forensic_mark_ssim', worstSsim, '')
  figure('forensic_mark_psnr_before_encoding_db', markAlone, 'dB')
  figure('forensic_transcode_ratio', withVariants / without, 'x')
  figure('forensic_transcode_seconds_without', without, 's')
  figure('forensic_transcode_seconds_with', withVariants, 's')
  figure('forensic_storage_bytes_without', plainBytes, 'bytes')
  figure('forensic_storage_bytes_with', plainBytes + variantBytes, 'bytes')
  await rm(dir, { recursive: true, force: true })
}
