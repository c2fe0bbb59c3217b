import { StorageDeletionSchema } from '#database/schema'

/** A storage prefix that must be deleted; kept until the backend has deleted it. */
export default class StorageDeletion extends StorageDeletionSchema {
  static table = 'storage_deletions'
}
