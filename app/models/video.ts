import { VideoSchema } from '#database/schema'
import { afterDelete, afterSave, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import User from '#models/user'
import { bigintAsNumber, asJson } from '#models/column_types'
import { videoPrefix } from '#services/media/storage_keys'
import { invalidatePlaybackAfterCommit } from '#services/playback/session_cache'
import watermarkDefaultMode from '#services/watermark/default_mode'
import type { WatermarkMode } from '#services/watermark/modes'

export const VIDEO_STATUSES = ['uploaded', 'queued', 'processing', 'ready', 'failed'] as const
export type VideoStatus = (typeof VIDEO_STATUSES)[number]
export type Visibility = 'draft' | 'published'

export interface Rendition {
  name: string
  width: number
  height: number
  videoKbps: number
  audioKbps: number
  playlist: string
  /** Forensic A/B variants of every segment are stored (hlsKeys.variantSegment). */
  forensicVariants?: true
}

export { WATERMARK_MODES, type WatermarkMode } from '#services/watermark/modes'

export interface SpriteInfo {
  key: string
  vttKey: string
  intervalSeconds: number
  tileWidth: number
  tileHeight: number
  columns: number
  count: number
}

export default class Video extends VideoSchema {
  static table = 'videos'
  static selfAssignPrimaryKey = true

  /**
   * Web nodes hold the sessions of this video with the entitlement chain's
   * answer: any change (taken down, unpublished, archived, repriced, deleted)
   * makes them ask again.
   */
  @afterSave()
  @afterDelete()
  static async recheckPlayback(video: Video) {
    await invalidatePlaybackAfterCommit(video, { videoId: video.id })
  }

  declare status: VideoStatus
  declare visibility: Visibility
  /** Null: decided as before modes existed (see effectiveWatermarkMode). */
  declare watermarkMode: WatermarkMode | null

  /** Minor units (cents); pg returns bigint as text, prices fit a JS number. */
  @column({ consume: bigintAsNumber })
  declare priceMinor: number

  @column({ consume: bigintAsNumber })
  declare sourceSize: number

  /** Bytes under the video's storage prefix, measured when it became ready (null before). */
  @column({ consume: bigintAsNumber })
  declare storedBytes: number | null

  /** jsonb: pg would send a JS array as a PostgreSQL array, so serialise explicitly. */
  @column({ prepare: asJson })
  declare renditions: Rendition[] | null

  @column({ prepare: asJson })
  declare sprite: SpriteInfo | null

  @belongsTo(() => User, { foreignKey: 'ownerId' })
  declare owner: BelongsTo<typeof User>

  /** Everything stored for this video lives under this prefix. */
  get storagePrefix() {
    return videoPrefix(this.id)
  }

  get isPlayable() {
    return this.status === 'ready'
  }

  get isTakenDown() {
    // Undefined on a row created without it: not taken down.
    return !!this.takenDownAt
  }

  /** Archived by its creator: out of the catalog, no longer for sale, still played by whoever holds it. */
  get isArchived() {
    return !!this.archivedAt
  }

  get isPublic() {
    return this.status === 'ready' && this.visibility === 'published' && !this.isTakenDown
  }

  /** How the video is protected: its mode, or else the decision from before modes existed. */
  get effectiveWatermarkMode(): WatermarkMode {
    if (this.watermarkMode) return this.watermarkMode
    // The creator's switch from before modes existed, then the instance default (Admin → Videos, else WATERMARK_DEFAULT_MODE).
    if (this.watermarkEnabled !== null && this.watermarkEnabled !== undefined) return this.watermarkEnabled ? 'visible' : 'off'
    return watermarkDefaultMode.current ?? (this.priceMinor > 0 ? 'visible' : 'off')
  }

  /** Sessions are protected (visible render, forensic variants or both; see watermark/admission.ts). */
  get watermarkOn() {
    return this.effectiveWatermarkMode !== 'off'
  }

  /** The transcoder also makes A/B variants of the configured renditions. */
  get forensicOn() {
    return this.effectiveWatermarkMode === 'forensic' || this.effectiveWatermarkMode === 'both'
  }
}
