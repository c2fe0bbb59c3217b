import type { SpriteInfo } from '#models/video'

export interface SpriteSettings {
  intervalSeconds: number
  /** Each tile fits a square of this side, keeping the video's aspect ratio. */
  tileSize: number
  columns: number
  maxTiles: number
}

export type SpritePlan = Pick<SpriteInfo, 'intervalSeconds' | 'tileWidth' | 'tileHeight' | 'columns' | 'count'> & { rows: number }

const even = (value: number) => Math.max(2, Math.round(value / 2) * 2)

/**
 * The layout of a video's thumbnail sheet: one tile per interval, the
 * interval growing with the duration past `maxTiles` tiles, so a sheet never
 * nears JPEG's 65,535-pixel limit (1000 tiles of 160 px in 10 columns make
 * a 1600×16000 sheet, whatever the duration or the shape of the video).
 */
export function planSprite(durationSeconds: number, width: number, height: number, settings: SpriteSettings): SpritePlan {
  const landscape = width >= height
  const tileWidth = landscape ? even(settings.tileSize) : even((settings.tileSize * width) / height)
  const tileHeight = landscape ? even((settings.tileSize * height) / width) : even(settings.tileSize)
  const intervalSeconds = Math.max(settings.intervalSeconds, Math.ceil(durationSeconds / settings.maxTiles))
  const count = Math.max(1, Math.ceil(durationSeconds / intervalSeconds))
  const columns = Math.min(settings.columns, count)
  return { intervalSeconds, tileWidth, tileHeight, columns, rows: Math.ceil(count / columns), count }
}

/** The FFmpeg filter that turns a video into the plan's sheet (one frame: take the first output frame). */
export function spriteFilter(plan: SpritePlan) {
  const { intervalSeconds, tileWidth, tileHeight, columns, rows } = plan
  return (
    `fps=1/${intervalSeconds},scale=${tileWidth}:${tileHeight}:force_original_aspect_ratio=decrease,` +
    `pad=${tileWidth}:${tileHeight}:(ow-iw)/2:(oh-ih)/2,tile=${columns}x${rows}`
  )
}

/** The WebVTT that maps each time range to its tile of the sheet. */
export function spriteVtt(sprite: Pick<SpriteInfo, 'intervalSeconds' | 'tileWidth' | 'tileHeight' | 'columns' | 'count'>, duration: number) {
  const stamp = (seconds: number) => {
    const ms = Math.round(Math.min(seconds, duration) * 1000)
    const hours = Math.floor(ms / 3600_000)
    return `${String(hours).padStart(2, '0')}:${new Date(ms % 3600_000).toISOString().slice(14, 23)}`
  }
  const lines = ['WEBVTT', '']
  for (let i = 0; i < sprite.count; i++) {
    const x = (i % sprite.columns) * sprite.tileWidth
    const y = Math.floor(i / sprite.columns) * sprite.tileHeight
    lines.push(`${stamp(i * sprite.intervalSeconds)} --> ${stamp((i + 1) * sprite.intervalSeconds)}`)
    lines.push(`sprite.jpg#xywh=${x},${y},${sprite.tileWidth},${sprite.tileHeight}`, '')
  }
  return lines.join('\n')
}
