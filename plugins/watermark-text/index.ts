import { existsSync } from 'node:fs'
import vine from '@vinejs/vine'
import { definePlugin } from '@matinee/plugin-kit'
import { TextWatermarker, WATERMARK_SIZES } from './text_watermarker.js'

const DEFAULT_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'

/**
 * The visible watermark: the viewer's name (from the `watermark:text` filter)
 * drawn semi-transparent on every frame, jumping on a per-session schedule.
 */
export default definePlugin({
  name: 'watermark-text',
  version: '1.0.0',
  description: 'Visible watermark naming the viewer',
  options: vine.object({
    fontFile: vine.string().trim().optional(),
    /** The default opacity, until an admin sets one on Admin → Plugins. */
    opacity: vine.number().min(0.15).max(0.9).optional(),
  }),
  register(api) {
    const requested = api.options.fontFile ?? DEFAULT_FONT
    const fontFile = existsSync(requested) ? requested : undefined
    if (!fontFile) api.logger.warn(`font ${requested} not found: using the fontconfig family "Sans"`)
    const settings = api.settings.define(
      vine.object({
        opacity: vine.number().min(0.15).max(0.9),
        size: vine.enum(WATERMARK_SIZES),
      }),
      { opacity: api.options.opacity ?? 0.5, size: 'medium' },
      {
        opacity: { label: 'Opacity', help: 'From 0.15 (faint) to 0.9 (nearly solid). Fainter marks are easier to crop out of a recording.' },
        size: { label: 'Text size', help: 'Relative to the picture: medium is 40 px high on 720p.' },
      }
    )
    api.watermarks.register(
      new TextWatermarker(async () => ({ fontFile, fontFamily: 'Sans', ...(await settings.get()) }))
    )
  },
})
