import { createHmac } from 'node:crypto'
import type { ForensicPatternInput, ForensicVariantInput, ForensicWatermarker } from '@matinee/plugin-kit'

/** One cosine of the mark: whole cycles across the frame and a phase. */
export interface PatternComponent {
  cyclesX: number
  cyclesY: number
  phase: number
}

/**
 * Spatial frequencies the mark may use: 1 to 3 cycles across the frame.
 * The lowest frequencies survive rescaling, cropping a few percent and
 * re-encoding at a low bitrate (they are what a codec spends bits on last
 * to discard), and a slow ±2-level ramp is invisible on real footage.
 * (x, y) and (-x, -y) are the same wave, so x ≥ 0 and y > 0 when x = 0.
 */
const FREQUENCIES: Array<[number, number]> = []
for (let x = 0; x <= 3; x++) {
  for (let y = -3; y <= 3; y++) {
    const radius = Math.hypot(x, y)
    if ((x === 0 && y <= 0) || radius < 1 || radius > 3) continue
    FREQUENCIES.push([x, y])
  }
}

const COMPONENTS = 3

/** The video's cosines: distinct frequencies and phases drawn from an HMAC of its key. */
export function patternComponents(key: Buffer): PatternComponent[] {
  const pool = [...FREQUENCIES]
  const components: PatternComponent[] = []
  for (let k = 0; k < COMPONENTS; k++) {
    const digest = createHmac('sha256', key).update(`luma-ab:component:${k}`).digest()
    const [cyclesX, cyclesY] = pool.splice(digest.readUInt32BE(0) % pool.length, 1)[0]
    components.push({ cyclesX, cyclesY, phase: (digest.readUInt32BE(4) / 2 ** 32) * 2 * Math.PI })
  }
  return components
}

/**
 * The low-frequency luma mark: three keyed cosines summed, scaled so the
 * typical offset is `amplitude` levels and clipped to ±amplitude. Variant A
 * adds it, variant B subtracts it, so A − B carries twice the mark and a
 * copy of either correlates with the pattern with opposite signs.
 *
 * Speed: the offsets are computed once, on a single pattern frame (geq), and
 * added to every frame with blend's grainmerge (a + b − 128), which runs at
 * hundreds of 720p frames a second; geq on every frame ran at 2 fps.
 */
export class LumaWatermarker implements ForensicWatermarker {
  readonly id = 'luma'
  readonly kind = 'forensic' as const
  readonly label = 'Low-frequency luma A/B mark'

  constructor(private readonly amplitude: number) {}

  variantFilter(input: ForensicVariantInput): string {
    const sign = input.variant === 'A' ? '+' : '-'
    const waves = patternComponents(input.key)
      .map((c) => `cos(2*PI*(${c.cyclesX}*(X+0.5)/W+${c.cyclesY}*(Y+0.5)/H)+${c.phase.toFixed(6)})`)
      .join('+')
    const scale = (this.amplitude / 2).toFixed(4)
    const offset = `clip(round(${scale}*(${waves})),-${this.amplitude},${this.amplitude})`
    const pattern = `${input.outLabel}_pattern`
    // One grey frame (128 = no change) carrying the offsets; blend repeats
    // its last frame for every frame of the rendition, keeping their timestamps.
    return (
      `color=c=0x808080:s=${input.width}x${input.height}:r=1:d=1,format=yuv420p,` +
      `geq=lum='128${sign}${offset}':cb=128:cr=128[${pattern}];` +
      `[${input.inLabel}]format=yuv420p[${input.outLabel}_frames];` +
      `[${input.outLabel}_frames][${pattern}]blend=all_mode=grainmerge[${input.outLabel}]`
    )
  }

  pattern(input: ForensicPatternInput): Float32Array {
    const components = patternComponents(input.key)
    const values = new Float32Array(input.width * input.height)
    for (let y = 0; y < input.height; y++) {
      for (let x = 0; x < input.width; x++) {
        let sum = 0
        for (const c of components) {
          sum += Math.cos(2 * Math.PI * ((c.cyclesX * (x + 0.5)) / input.width + (c.cyclesY * (y + 0.5)) / input.height) + c.phase)
        }
        values[y * input.width + x] = (this.amplitude / 2) * sum
      }
    }
    return values
  }

  score(input: ForensicPatternInput & { difference: Float32Array }): number {
    const pattern = this.pattern(input)
    if (input.difference.length !== pattern.length) {
      throw new Error(`difference has ${input.difference.length} values; a ${input.width}×${input.height} pattern has ${pattern.length}`)
    }
    return correlation(input.difference, pattern)
  }
}

/** Pearson correlation: means removed, so a brightness shift of the suspect copy does not count. */
export function correlation(a: Float32Array, b: Float32Array) {
  const n = a.length
  let meanA = 0
  let meanB = 0
  for (let i = 0; i < n; i++) {
    meanA += a[i]
    meanB += b[i]
  }
  meanA /= n
  meanB /= n
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < n; i++) {
    const da = a[i] - meanA
    const db = b[i] - meanB
    ab += da * db
    aa += da * da
    bb += db * db
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb)
}
