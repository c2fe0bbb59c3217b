import { createHmac } from 'node:crypto'
import type { VisibleWatermarker, VisibleWatermarkInput } from '@matinee/plugin-kit'

export interface TextWatermarkStyle {
  /** A TrueType font file, or a fontconfig family name when no file is given. */
  fontFile?: string
  fontFamily: string
  /** 0..1: how opaque the text is. */
  opacity: number
  /** The text's height relative to the frame's. */
  size: WatermarkSize
}

export const WATERMARK_SIZES = ['small', 'medium', 'large'] as const
export type WatermarkSize = (typeof WATERMARK_SIZES)[number]

/** Frame height / text height: "medium" is 40 px on 720p. */
const HEIGHT_PER_TEXT: Record<WatermarkSize, number> = { small: 26, medium: 18, large: 12 }

/** Where the mark sits during one slot, as fractions of the free area. */
export interface SlotPosition {
  slot: number
  x: number
  y: number
}

/**
 * The position of slot `slot` for a session: an HMAC of the slot number keyed
 * by the session's secret seed. Deterministic (every segment of a session
 * agrees, wherever it was rendered) and unpredictable without the seed.
 */
export function slotPosition(seed: Buffer, slot: number): SlotPosition {
  const digest = createHmac('sha256', seed).update(`slot:${slot}`).digest()
  return { slot, x: digest.readUInt32BE(0) / 2 ** 32, y: digest.readUInt32BE(4) / 2 ** 32 }
}

/**
 * Text safe to hand to drawtext: letters, digits, spaces and a few signs.
 * Anything else (quotes, backslashes, colons, percent signs) could change
 * the filter graph, so it is dropped.
 */
export function safeText(text: string) {
  return text.replace(/[^\p{L}\p{N} @._#·\-]/gu, '').replace(/\s+/g, ' ').trim().slice(0, 80) || 'Matinee'
}

const fixed = (value: number) => value.toFixed(4)

/**
 * Draws the session's text, semi-transparent with a dark outline (legible on
 * light and dark frames), sized from the frame height, jumping to a new
 * position at every slot boundary.
 */
export class TextWatermarker implements VisibleWatermarker {
  readonly id = 'text'
  readonly kind = 'visible' as const
  readonly label = 'Viewer name, moving'

  /** Read for every segment: an admin's change to the settings applies to the next one rendered. */
  #styleOf: () => TextWatermarkStyle | Promise<TextWatermarkStyle>

  constructor(styleOf: () => TextWatermarkStyle | Promise<TextWatermarkStyle>) {
    this.#styleOf = styleOf
  }

  async buildFilter(input: VisibleWatermarkInput): Promise<string> {
    const style = await this.#styleOf()
    const { session, startSeconds, durationSeconds, height, intervalSeconds } = input
    const first = Math.floor(startSeconds / intervalSeconds)
    const last = Math.floor((startSeconds + durationSeconds) / intervalSeconds)
    const slots: SlotPosition[] = []
    for (let slot = first; slot <= last; slot++) slots.push(slotPosition(session.seed, slot))

    // A balanced tree of if(lt(t,boundary),earlier,later): FFmpeg's expression
    // parser limits nesting, and a long range has many slots.
    const piecewise = (valueOf: (position: SlotPosition) => string, from = 0, to = slots.length): string => {
      if (to - from === 1) return valueOf(slots[from])
      const middle = Math.floor((from + to) / 2)
      const boundary = slots[middle].slot * intervalSeconds
      return `if(lt(t\\,${boundary})\\,${piecewise(valueOf, from, middle)}\\,${piecewise(valueOf, middle, to)})`
    }

    const fontSize = Math.max(12, Math.round(height / HEIGHT_PER_TEXT[style.size]))
    const border = Math.max(1, Math.round(fontSize / 14))
    const margin = Math.round(fontSize * 0.8)
    const font = style.fontFile ? `fontfile=${style.fontFile}` : `font=${style.fontFamily}`
    const opacity = style.opacity.toFixed(2)
    const options = [
      font,
      'expansion=none',
      `text=${safeText(session.text).replace(/ /g, '\\ ')}`,
      `fontsize=${fontSize}`,
      `fontcolor=white@${opacity}`,
      `borderw=${border}`,
      `bordercolor=black@${opacity}`,
      `x=${piecewise((p) => `${margin}+${fixed(p.x)}*(w-text_w-${2 * margin})`)}`,
      `y=${piecewise((p) => `${margin}+${fixed(p.y)}*(h-text_h-${2 * margin})`)}`,
    ]
    return `drawtext=${options.join(':')}`
  }
}
