import { hkdfSync } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import env from '#start/env'
import type { ForensicVariant, ForensicWatermarker } from '#hooks/contracts'
import mediaConfig from '#config/media'
import plugins from '#services/plugins'
import storage from '#services/storage_service'
import { hlsKeys } from '#services/media/storage_keys'
import { forensicLabels, variantStreamName, type ForensicOutput, type PlannedRendition } from '#services/media/ladder'

export const FORENSIC_VARIANTS: ForensicVariant[] = ['A', 'B']

/**
 * The secret of one video's forensic mark: HKDF of APP_KEY, bound to the
 * video. Whoever lacks APP_KEY cannot compute (or subtract) a video's mark;
 * one video's mark tells nothing about another's. (Session codes, which pick
 * A or B per segment, will be derived from the same key.)
 */
export function forensicKey(videoId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', env.get('APP_KEY').release(), 'matinee:forensic', `video:${videoId}`, 32))
}

/** The forensic watermarker config/media.ts names; a clear error when no plugin registered it. */
export function forensicWatermarker(): ForensicWatermarker {
  const watermarker = plugins.watermarks.get(mediaConfig.forensic.watermarker)
  if (!watermarker || watermarker.kind !== 'forensic') {
    throw new Error(
      `This video is in forensic mode but no forensic watermarker "${mediaConfig.forensic.watermarker}" is enabled (plugins/watermark-forensic in config/plugins.ts)`
    )
  }
  return watermarker
}

/**
 * The renditions that get A/B variants: those FORENSIC_RENDITIONS names, or
 * all of them. When a video's ladder has none of the named ones (a small
 * source), its smallest rendition gets them: a forensic video always has some.
 */
export function forensicRenditions<T extends Pick<PlannedRendition, 'name' | 'height' | 'width'>>(renditions: T[], names = mediaConfig.forensic.renditions): T[] {
  if (names.length === 0) return renditions
  const named = renditions.filter((rendition) => names.includes(rendition.name))
  if (named.length || renditions.length === 0) return named
  const area = (rendition: T) => rendition.width * rendition.height
  return [renditions.reduce((smallest, rendition) => (area(rendition) < area(smallest) ? rendition : smallest))]
}

/**
 * The A/B outputs of a forensic video's transcode: the watermarker's filter
 * for each variant of each configured rendition. Undefined when the video
 * is not in forensic mode (its transcode is exactly what it was before).
 */
export async function planForensicOutput(
  video: { id: string; forensicOn: boolean },
  renditions: PlannedRendition[],
  outDir: string
): Promise<ForensicOutput | undefined> {
  if (!video.forensicOn) return undefined
  const watermarker = forensicWatermarker()
  const key = forensicKey(video.id)
  const variants: ForensicOutput['variants'] = []
  for (const rendition of forensicRenditions(renditions)) {
    const index = renditions.indexOf(rendition)
    for (const variant of FORENSIC_VARIANTS) {
      const filter = await watermarker.variantFilter({
        videoId: video.id,
        key,
        rendition: rendition.name,
        width: rendition.width,
        height: rendition.height,
        variant,
        ...forensicLabels(index, variant),
      })
      variants.push({ rendition: index, variant, filter })
    }
  }
  return variants.length ? { outDir, variants } : undefined
}

/**
 * Checks that every variant lines up with its unmarked rendition (the same
 * init segment byte for byte, the same playlist: segment count and
 * durations), then stores its segments under the variant keys. A variant
 * that does not line up would break playback of a mixed A/B sequence, so it
 * fails the transcode instead of being stored.
 */
export async function storeForensicVariants(forensic: ForensicOutput, renditions: PlannedRendition[], unmarkedDir: string, hlsPrefix: string) {
  const withVariants = new Set<PlannedRendition>()
  for (const { rendition: index, variant } of forensic.variants) {
    const rendition = renditions[index]
    const dir = join(forensic.outDir, variantStreamName(rendition.name, variant))
    const [unmarked, marked] = await Promise.all([readHlsOutput(join(unmarkedDir, rendition.name)), readHlsOutput(dir)])
    for (const part of ['init', 'segments'] as const) {
      if (!unmarked[part].equals(marked[part])) {
        throw new Error(`Forensic variant ${variant} of ${rendition.name} does not line up with the rendition (its ${part === 'init' ? 'init segment' : 'segment list'} differs)`)
      }
    }
    for (const name of (await readdir(dir)).sort()) {
      const match = name.match(/^seg_(\d+)\.m4s$/)
      if (!match) continue
      const key = hlsKeys.variantSegment(hlsPrefix, rendition.name, variant === 'A' ? 'a' : 'b', Number(match[1]))
      await storage.put(key, createReadStream(join(dir, name)))
    }
    withVariants.add(rendition)
  }
  return withVariants
}

/**
 * A rendition's playlist without its EXT-X-MAP line (FFmpeg numbers init
 * files by stream, "init_1.mp4"), and the init segment that line names.
 */
async function readHlsOutput(dir: string) {
  const playlist = await readFile(join(dir, 'index.m3u8'), 'utf8')
  const map = playlist.match(/^#EXT-X-MAP:URI="([^"/]+)"$/m)
  if (!map) throw new Error(`${dir}/index.m3u8 has no init segment`)
  return { init: withoutBitrates(await readFile(join(dir, map[1]))), segments: Buffer.from(playlist.replace(map[0], '')) }
}

/**
 * An init segment with its `btrt` boxes' figures zeroed. They say what bit
 * rate the stream has, nothing a decoder uses; a chunked transcode's join
 * copies them from what each stream measured, so a variant's differ from its
 * rendition's by a few bits per second. The rest (codec configuration,
 * timescales, tracks) must match byte for byte.
 */
function withoutBitrates(init: Buffer) {
  const copy = Buffer.from(init)
  for (let at = copy.indexOf('btrt'); at !== -1; at = copy.indexOf('btrt', at + 4)) {
    // A btrt box is 20 bytes: size, type, buffer size, max and average bit rate.
    if (at >= 4 && copy.readUInt32BE(at - 4) === 20 && at + 16 <= copy.length) copy.fill(0, at + 4, at + 16)
  }
  return copy
}
