import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import type {
  ByteRange,
  PluginHealth,
  StorageBackend,
  StoredObjectHead,
  StoredObjectMeta,
  StoredObjectStream,
  UploadStore,
  UploadStoreOptions,
} from '@matinee/plugin-kit'
import { s3UploadStore } from './s3_upload_store.js'
import { InvalidRangeError, ObjectNotFoundError, contentTypeFor } from '@matinee/plugin-kit'

export interface S3Options {
  bucket: string
  region: string
  endpoint?: string
  accessKeyId: string
  secretAccessKey: string
  forcePathStyle?: boolean
  partSize?: number
  createBucket?: boolean
  /** Bucket of staged resumable uploads (default: the media bucket). */
  uploadBucket?: string
  /** Key prefix of staged resumable uploads (default: "tus-uploads/" in the media bucket, none in a bucket of their own). */
  uploadPrefix?: string
}

/** A presigned GET for nginx lasts this long, and is reused until this margin before its end (longer than any single transfer). */
const OFFLOAD_EXPIRES_SECONDS = 15 * 60
const OFFLOAD_REUSE_MARGIN_SECONDS = 5 * 60
const OFFLOAD_MAX_HELD = 20_000

const isNotFound = (error: any) =>
  error?.name === 'NoSuchKey' || error?.name === 'NotFound' || error?.$metadata?.httpStatusCode === 404

/**
 * Objects in one bucket. Large bodies go up as multipart uploads (parts of
 * `partSize`, 8 MiB by default) streamed from the source; reads use HTTP
 * Range requests.
 */
export class S3StorageBackend implements StorageBackend {
  readonly id = 's3'
  readonly label = 'S3-compatible storage'
  readonly client: S3Client

  constructor(private options: S3Options) {
    this.client = new S3Client(this.#clientConfig())
  }

  #clientConfig(): S3ClientConfig {
    return {
      region: this.options.region,
      endpoint: this.options.endpoint,
      forcePathStyle: this.options.forcePathStyle ?? Boolean(this.options.endpoint),
      credentials: { accessKeyId: this.options.accessKeyId, secretAccessKey: this.options.secretAccessKey },
    }
  }

  /**
   * Resumable uploads wait in the same bucket under `uploadPrefix` (or in
   * `uploadBucket`), as S3 multipart uploads every web node reaches.
   */
  uploadStore(options: UploadStoreOptions): UploadStore {
    const separate = this.options.uploadBucket && this.options.uploadBucket !== this.bucket
    return s3UploadStore(
      {
        clientConfig: this.#clientConfig(),
        bucket: this.options.uploadBucket || this.bucket,
        prefix: this.options.uploadPrefix ?? (separate ? '' : 'tus-uploads/'),
        partSize: this.options.partSize,
        ensureBucket: separate
          ? () => this.#ensureBucketNamed(this.options.uploadBucket!)
          : () => this.#ensureBucket(),
      },
      options
    )
  }

  get bucket() {
    return this.options.bucket
  }

  #ensureBucket() {
    return this.#ensureBucketNamed(this.bucket)
  }

  #bucketsReady = new Map<string, Promise<void>>()

  #ensureBucketNamed(bucket: string) {
    if (!this.options.createBucket) return Promise.resolve()
    let ready = this.#bucketsReady.get(bucket)
    if (!ready) {
      ready = this.client
        .send(new HeadBucketCommand({ Bucket: bucket }))
        .then(() => undefined)
        .catch(async () => {
          await this.client.send(new CreateBucketCommand({ Bucket: bucket }))
        })
      ready.catch(() => this.#bucketsReady.delete(bucket))
      this.#bucketsReady.set(bucket, ready)
    }
    return ready
  }


  async put(key: string, body: Readable | Buffer, meta?: StoredObjectMeta): Promise<StoredObjectHead> {
    await this.#ensureBucket()
    const contentType = meta?.contentType ?? contentTypeFor(key)
    let size = Buffer.isBuffer(body) ? body.length : 0
    let counted: Readable | Buffer = body
    if (!Buffer.isBuffer(body)) {
      const counter = new PassThrough({
        transform(chunk, _encoding, callback) {
          size += chunk.length
          callback(null, chunk)
        },
      })
      // A failing source destroys the counter, which fails the upload below.
      pipeline(body, counter).catch(() => {})
      counted = counter
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: counted, ContentType: contentType, Metadata: meta?.metadata },
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    })
    const result = await upload.done()
    return { key, size, contentType, etag: (result as any).ETag }
  }

  async get(key: string, options: { range?: ByteRange } = {}): Promise<StoredObjectStream> {
    await this.#ensureBucket()
    const range = options.range
    let head: StoredObjectHead | null = null
    if (range) {
      // Validate against the real size first: S3 servers differ on how they
      // answer a range past the end.
      head = await this.head(key)
      if (!head) throw new ObjectNotFoundError(key)
      const end = range.end === undefined ? head.size - 1 : Math.min(range.end, head.size - 1)
      if (range.start < 0 || range.start >= head.size || end < range.start) throw new InvalidRangeError(key, head.size)
      range.end = end
    }
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        })
      )
      const size = head?.size ?? Number(response.ContentLength ?? 0)
      return {
        key,
        size,
        contentType: response.ContentType ?? contentTypeFor(key),
        lastModified: response.LastModified,
        etag: response.ETag,
        body: response.Body as Readable,
        range: range ? { start: range.start, end: range.end! } : undefined,
      }
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(key)
      throw error
    }
  }

  /** Presigned GETs handed out, by key: one is reused until `OFFLOAD_REUSE_MARGIN_SECONDS` before it expires. */
  #offloads = new Map<string, { path: string; reuseUntil: number }>()

  /**
   * For nginx in front (STORAGE_ACCEL_REDIRECT_PREFIX): the path and query of
   * a presigned GET of the object, which nginx proxies from the endpoint
   * (README: serving media through nginx). The app has checked the viewer;
   * the signature lets nginx read this one object for a few minutes, so the
   * bucket stays private. Presigning is a chain of HMACs: one per key is
   * reused for most of its life rather than made per request.
   */
  async offloadPath(key: string): Promise<string> {
    const now = Date.now()
    const held = this.#offloads.get(key)
    if (held && held.reuseUntil > now) return held.path
    const url = new URL(await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: OFFLOAD_EXPIRES_SECONDS }))
    const path = url.pathname.slice(1) + url.search
    if (this.#offloads.size >= OFFLOAD_MAX_HELD) this.#offloads.delete(this.#offloads.keys().next().value!)
    this.#offloads.set(key, { path, reuseUntil: now + (OFFLOAD_EXPIRES_SECONDS - OFFLOAD_REUSE_MARGIN_SECONDS) * 1000 })
    return path
  }

  async head(key: string): Promise<StoredObjectHead | null> {
    await this.#ensureBucket()
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))
      return {
        key,
        size: Number(response.ContentLength ?? 0),
        contentType: response.ContentType ?? contentTypeFor(key),
        lastModified: response.LastModified,
        etag: response.ETag,
      }
    } catch (error) {
      if (isNotFound(error)) return null
      throw error
    }
  }

  async delete(keyOrPrefix: string) {
    await this.#ensureBucket()
    if (!keyOrPrefix.endsWith('/')) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keyOrPrefix }))
      return
    }
    let batch: string[] = []
    const flush = async () => {
      if (!batch.length) return
      await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })
      )
      batch = []
    }
    for await (const object of this.list(keyOrPrefix)) {
      batch.push(object.key)
      if (batch.length === 1000) await flush()
    }
    await flush()
  }

  async *list(prefix: string): AsyncIterable<StoredObjectHead> {
    await this.#ensureBucket()
    let token: string | undefined
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })
      )
      for (const object of page.Contents ?? []) {
        yield { key: object.Key!, size: Number(object.Size ?? 0), lastModified: object.LastModified, etag: object.ETag }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  async health(): Promise<PluginHealth> {
    try {
      await this.#ensureBucket()
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }))
      return { ok: true, message: `bucket ${this.bucket} reachable` }
    } catch (error) {
      return { ok: false, message: `bucket ${this.bucket} unreachable: ${(error as Error).message}` }
    }
  }
}
