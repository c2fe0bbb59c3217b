import { randomUUID } from 'node:crypto'
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import mediaConfig from '#config/media'
import { probe } from '#services/media/probe'
import { run } from '#services/media/ffmpeg'
import { forensicLabels, hlsCommand, outputFps, planLadder, variantStreamName, type PlannedRendition } from '#services/media/ladder'
import { FORENSIC_VARIANTS, forensicKey, forensicWatermarker, planForensicOutput } from '#services/media/forensic_variants'
import { joinSegments, psnr, ssim } from '#tests/helpers/forensic'
import { benchDir, exec, figure, smokeOr, source, timed } from './helpers.js'
import { traceBench } from './forensic_trace.js'

/**
 * 720p30 with audio, a moving test pattern (smoke: 2 s of 360p). `grain`
 * adds film-like temporal noise: the encoder's own noise then outweighs the
 * mark, which is where a variant drifts furthest from the unmarked encode.
 */
const forensicSource = (grain: boolean, fullSeconds: number) => {
  const [size, seconds] = smokeOr(['1280x720', fullSeconds], ['640x360', 2])
  const noise = grain ? ',noise=alls=6:allf=t' : ''
  return source(`forensic-source-${size}-${seconds}s${grain ? '-grain' : ''}.mp4`, [
    '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30${noise}`,
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

/** Worst PSNR and SSIM of any variant of any rendition against its unmarked rendition. */
async function variantQuality(renditions: PlannedRendition[], markedDir: string, variantsDir: string, dir: string, label: string) {
  let worstPsnr = Infinity
  let worstSsim = Infinity
  for (const rendition of renditions) {
    const unmarked = await joined(join(markedDir, rendition.name), join(dir, `${rendition.name}-u.mp4`))
    for (const variant of FORENSIC_VARIANTS) {
      const marked = await joined(join(variantsDir, variantStreamName(rendition.name, variant)), join(dir, `${rendition.name}-${variant}.mp4`))
      const [decibels, similarity] = [await psnr(marked, unmarked), await ssim(marked, unmarked)]
      console.error(`${label} ${rendition.name} ${variant}: PSNR ${decibels.toFixed(2)} dB, SSIM ${similarity.toFixed(4)} against the unmarked rendition`)
      worstPsnr = Math.min(worstPsnr, decibels)
      worstSsim = Math.min(worstSsim, similarity)
    }
  }
  return { psnr: worstPsnr, ssim: worstSsim }
}

/**
 * What the forensic A/B mark costs, on the ladder of a clean 720p source:
 * - transcode time with A/B variants of every rendition over without (the
 *   bare single-process FFmpeg command the worker runs, best of two);
 * - quality of each variant against the unmarked rendition (PSNR, SSIM; the
 *   figures are the worst rendition's worst variant), also on a grainy
 *   source, and the mark alone before encoding;
 * - storage with and without variants;
 * - tracing leaked clips among 200 sessions (bench/forensic_trace.ts).
 */
export default async function forensicBench() {
  const dir = join(benchDir, 'forensic')
  const video = { id: randomUUID(), forensicOn: true }
  const transcode = async (path: string, rounds: number, only?: (r: PlannedRendition) => boolean) => {
    const info = await probe(path)
    const renditions = planLadder(info, mediaConfig.ladder).filter(only ?? (() => true))
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
    const out = { plain: join(dir, 'plain'), marked: join(dir, 'marked'), variants: join(dir, 'variants') }
    console.error(`ladder: ${renditions.map((r) => r.name).join(' ')}, preset ${mediaConfig.x264Preset}, ${info.durationSeconds.toFixed(1)} s`)
    let without = Infinity
    let withVariants = Infinity
    for (let round = 0; round < rounds; round++) {
      await rm(dir, { recursive: true, force: true })
      await mkdir(out.plain, { recursive: true })
      await mkdir(out.marked, { recursive: true })
      without = Math.min(without, (await timed(() => run('ffmpeg', hlsCommand({ ...base, outDir: out.plain })))).seconds)
      const forensic = await planForensicOutput(video, renditions, out.variants)
      withVariants = Math.min(withVariants, (await timed(() => run('ffmpeg', hlsCommand({ ...base, outDir: out.marked, forensic })))).seconds)
    }
    return { renditions, out, without, withVariants }
  }

  const clean = await forensicSource(false, 30)
  const ladder = await transcode(clean, smokeOr(2, 1))
  const quality = await variantQuality(ladder.renditions, ladder.out.marked, ladder.out.variants, dir, 'clean')
  const plainBytes = await bytesUnder(ladder.out.plain)
  // Stored per variant: its segments only (it shares the rendition's init segment and playlist).
  const variantBytes = await bytesUnder(ladder.out.variants, (name) => name.endsWith('.m4s'))

  // The mark alone, before any encoding: variant A's frames against the
  // same frames unmarked, at the top rendition's size.
  const top = ladder.renditions.reduce((a, b) => (a.height >= b.height ? a : b))
  const labels = forensicLabels(0, 'A')
  const fragment = await forensicWatermarker().variantFilter({ videoId: video.id, key: forensicKey(video.id), rendition: top.name, width: top.width, height: top.height, variant: 'A', ...labels })
  const { stderr } = await exec('ffmpeg', [
    '-hide_banner', '-nostats', '-i', clean, '-filter_complex',
    `[0:v]scale=${top.width}:${top.height},format=yuv420p,split[ref][${labels.inLabel}];${fragment};[${labels.outLabel}][ref]psnr`,
    '-f', 'null', '-',
  ])
  const markAlone = Number(stderr.match(/PSNR .* average:([\d.]+)/)![1])

  // A grainy source, top rendition only.
  const grainy = await transcode(await forensicSource(true, 10), 1, (r) => r.name === top.name)
  const grainyQuality = await variantQuality(grainy.renditions, grainy.out.marked, grainy.out.variants, dir, 'grainy')

  figure('forensic_mark_psnr_db', quality.psnr, 'dB')
  figure('forensic_mark_ssim', quality.ssim, '')
  figure('forensic_mark_psnr_grainy_db', grainyQuality.psnr, 'dB')
  figure('forensic_mark_ssim_grainy', grainyQuality.ssim, '')
  figure('forensic_mark_psnr_before_encoding_db', markAlone, 'dB')
  figure('forensic_transcode_ratio', ladder.withVariants / ladder.without, 'x')
  figure('forensic_transcode_seconds_without', ladder.without, 's')
  figure('forensic_transcode_seconds_with', ladder.withVariants, 's')
  figure('forensic_storage_bytes_without', plainBytes, 'bytes')
  figure('forensic_storage_bytes_with', plainBytes + variantBytes, 'bytes')

  await traceBench(join(dir, 'trace'))
  await rm(dir, { recursive: true, force: true })
}
