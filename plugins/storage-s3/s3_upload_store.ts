import { S3Store } from '@tus/s3-store'
import type { Upload } from '@tus/utils'
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import type { UploadStore, UploadStoreOptions } from '@matinee/plugin-kit'

export interface S3UploadStoreOptions {
  clientConfig: S3ClientConfig
  bucket: string
  /** Key prefix of staged uploads in that bucket. */
  prefix: string
  partSize?: number
  /** Creates the bucket if needed, before the first upload. */
  ensureBucket: () => Promise<void>
}

/**
 * Resumable uploads staged as S3 multipart uploads (`@tus/s3-store`): every
 * PATCH becomes parts of one multipart upload, whichever web node takes it,
 * and the offset is what S3 holds. Two fixes over the stock store: the bucket
 * is created before the first upload when the backend creates buckets, and
 * `remove` of a completed upload deletes the assembled object too (the stock
 * store stops at the already completed multipart upload it cannot abort).
 */
class StagingS3Store extends S3Store {
  constructor(
    private staging: S3UploadStoreOptions,
    options: UploadStoreOptions
  ) {
    super({
      s3ClientConfig: {
        ...staging.clientConfig,
        bucket: staging.bucket,
        // Parts are streamed from temporary files: without this, the SDK
        // sends them aws-chunked with a trailing checksum, which not every
        // S3-compatible server decodes (some store the chunk framing as data).
        // Each part's ETag is still checked by S3.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      },
      partSize: staging.partSize,
      cache: options.cache,
      expirationPeriodInMilliseconds: options.expirationPeriodInMilliseconds,
      // The core deletes expired uploads itself; object tags are not
      // supported by every S3-compatible server.
      useTags: false,
      // Each part is spooled to a temporary file, then sent: a few at once
      // keep a node's disk and memory small whatever the file's size.
      maxConcurrentPartUploads: 4,
    })
  }

  override async create(upload: Upload) {
    await this.staging.ensureBucket()
    return super.create(upload)
  }

  override async remove(id: string) {
    await super.remove(id).catch(() => {})
    await this.client.deleteObjects({
      Bucket: this.bucket,
      Delete: { Objects: [{ Key: id }, { Key: `${id}.info` }, { Key: `${id}.part` }], Quiet: true },
    })
  }
}

export function s3UploadStore(staging: S3UploadStoreOptions, options: UploadStoreOptions): UploadStore {
  return { datastore: new StagingS3Store(staging, options), idPrefix: staging.prefix }
}
