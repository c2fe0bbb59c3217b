import vine from '@vinejs/vine'
import { definePlugin } from '@matinee/plugin-kit'
import { S3StorageBackend } from './s3_storage_backend.js'

/**
 * Stores media in an S3 bucket or any S3-compatible server (MinIO, Ceph,
 * R2, Garage...) through `endpoint`. The bucket must stay private.
 */
export default definePlugin({
  name: 'storage-s3',
  version: '1.0.0',
  description: 'Media on S3-compatible object storage',
  options: vine.object({
    bucket: vine.string().trim().minLength(3).maxLength(63),
    region: vine.string().trim().minLength(1),
    endpoint: vine.string().url({ require_tld: false }).optional(),
    accessKeyId: vine.string().minLength(1),
    secretAccessKey: vine.string().minLength(1),
    forcePathStyle: vine.boolean().optional(),
    /** Objects above this size are sent in parts of this size (bytes). */
    partSize: vine.number().min(5 * 1024 * 1024).optional(),
    /** Create the bucket at first use (handy for local S3 servers). */
    createBucket: vine.boolean().optional(),
    /** Where resumable uploads wait until complete: another bucket (default: this one)... */
    uploadBucket: vine.string().trim().minLength(3).maxLength(63).optional(),
    /** ...under this key prefix (default "tus-uploads/" in the media bucket, none in a bucket of their own). */
    uploadPrefix: vine
      .string()
      .regex(/^([A-Za-z0-9][A-Za-z0-9._-]*\/)*$/)
      .optional(),
  }),
  register(api) {
    api.storage.register(new S3StorageBackend(api.options))
  },
})
