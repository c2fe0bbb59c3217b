import { belongsTo } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { VideoCaptionSchema } from '#database/schema'
import Video from '#models/video'
import { captionKey } from '#services/media/storage_keys'

/** A video's subtitles in one language (the file itself is in storage, as WebVTT). */
export default class VideoCaption extends VideoCaptionSchema {
  static table = 'video_captions'

  @belongsTo(() => Video)
  declare video: BelongsTo<typeof Video>

  get storageKey() {
    return captionKey(this.videoId, this.language)
  }
}
