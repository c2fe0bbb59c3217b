import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import S3rver from 's3rver'

/**
 * s3rver on loopback, with the two multipart calls it lacks and that
 * resumable uploads on S3 (`@tus/s3-store`) depend on, answered from
 * s3rver's own files as S3 does: ListParts (the offset of an upload is what
 * its parts hold) and AbortMultipartUpload. Everything else is s3rver's.
 */
export async function startS3Server() {
  const directory = await mkdtemp(join(tmpdir(), 'matinee-s3-'))
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory })
  const store = (server as any).store
  const noSuchUpload = (ctx: any) => {
    ctx.status = 404
    ctx.body = { Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.' } }
  }
  const multipartCalls = async (ctx: any, next: () => Promise<void>) => {
    const uploadId = ctx.query.uploadId
    const listParts = ctx.method === 'GET' && uploadId && !('partNumber' in ctx.query)
    const abort = ctx.method === 'DELETE' && uploadId
    if (!listParts && !abort) return next()
    if (!/^[0-9a-f]+$/.test(uploadId)) return noSuchUpload(ctx)
    const [, bucket, ...key] = decodeURIComponent(ctx.path).split('/')
    const uploadDir = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId)
    if (!(await stat(uploadDir).catch(() => null))) return noSuchUpload(ctx)
    if (abort) {
      await rm(uploadDir, { recursive: true, force: true })
      ctx.status = 204
      return
    }
    const numbers = (await readdir(uploadDir))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b)
    const parts = await Promise.all(
      numbers.map(async (number) => ({
        PartNumber: number,
        ETag: `"${(await readFile(join(uploadDir, `${number}.md5`), 'utf8')).trim()}"`,
        Size: (await stat(join(uploadDir, String(number)))).size,
      }))
    )
    ctx.body = {
      ListPartsResult: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        Bucket: bucket,
        Key: key.join('/'),
        UploadId: uploadId,
        IsTruncated: false,
        ...(parts.length ? { Part: parts } : {}),
      },
    }
  }
  // Before s3rver's router (the last middleware), after its XML encoder.
  const middleware = (server as any).middleware as unknown[]
  middleware.splice(middleware.length - 1, 0, multipartCalls)
  const { port } = (await server.run()) as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    async close() {
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}
