import { StagedUploadSchema } from '#database/schema'

/**
 * A resumable upload in progress, whichever web node takes its chunks: its
 * owner, declared size and last write, for the per-creator quota and the expiry.
 */
export default class StagedUpload extends StagedUploadSchema {
  static table = 'staged_uploads'
}
