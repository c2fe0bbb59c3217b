import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'

const exec = promisify(execFile)

/**
 * Measuring forensic variants (tests and bench/forensic.ts): fMP4 segments
 * joined behind their init segment, compared frame by frame with FFmpeg.
 */

/** One playable file: the init segment followed by media segments (fMP4 fragments concatenate). */
export async function joinSegments(initPath: string, segmentPaths: string[], outPath: string) {
  const parts = await Promise.all([initPath, ...segmentPaths].map((path) => readFile(path)))
  await writeFile(outPath, Buffer.concat(parts))
  return outPath
}

/** FFmpeg's psnr or ssim filter of `distorted` against `reference`: the average over all frames. */
async function compare(filter: 'psnr' | 'ssim', distorted: string, reference: string) {
  const { stderr } = await exec('ffmpeg', ['-hide_banner', '-nostats', '-i', distorted, '-i', reference, '-lavfi', `[0:v][1:v]${filter}`, '-f', 'null', '-'])
  const match = filter === 'psnr' ? stderr.match(/PSNR .* average:([\d.]+|inf)/) : stderr.match(/SSIM .* All:([\d.]+)/)
  if (!match) throw new Error(`no ${filter} in ffmpeg output: ${stderr.slice(-500)}`)
  return match[1] === 'inf' ? Infinity : Number(match[1])
}

export const psnr = (distorted: string, reference: string) => compare('psnr', distorted, reference)
export const ssim = (distorted: string, reference: string) => compare('ssim', distorted, reference)

/** The luma of a file's frames, downscaled to width × height and averaged over all frames. */
export async function meanLuma(path: string, width: number, height: number) {
  const { stdout } = await exec(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-vf', `scale=${width}:${height}:flags=area,format=gray`, '-f', 'rawvideo', '-'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }
  )
  const frameSize = width * height
  const frames = stdout.length / frameSize
  if (!Number.isInteger(frames) || frames === 0) throw new Error(`${path}: ${stdout.length} bytes is not whole ${width}x${height} frames`)
  const mean = new Float32Array(frameSize)
  for (let i = 0; i < stdout.length; i++) mean[i % frameSize] += stdout[i]
  for (let i = 0; i < frameSize; i++) mean[i] /= frames
  return mean
}

/** a − b, value by value. */
export function difference(a: Float32Array, b: Float32Array) {
  return a.map((value, i) => value - b[i])
}

/**
 * The frames of a file's video stream in presentation order: timestamp,
 * duration and flags (K = keyframe). Decode order is left out: the encoder
 * places B-frames by content, so two variants may order packets differently.
 */
export async function videoFrames(path: string) {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts,duration,flags', '-of', 'csv=p=0', path])
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split(','))
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map((fields) => fields.join(','))
}
