/*
| The cluster's S3 server (scripts/cluster.ts starts it as a child process):
| s3rver on loopback with the multipart calls resumable uploads need
| (tests/helpers/s3_server.ts), and the bucket named in argv[2] created.
| Prints "S3 <endpoint>" once it answers; SIGTERM stops it and deletes its files.
*/
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { startS3Server } from '../tests/helpers/s3_server.js'

const bucket = process.argv[2]
if (!bucket) {
  console.error('usage: scripts/s3_server.ts <bucket>')
  process.exit(2)
}
const server = await startS3Server()
const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } })
await client.send(new CreateBucketCommand({ Bucket: bucket }))
client.destroy()
console.log(`S3 ${server.endpoint}`)

const stop = async () => {
  await server.close()
  process.exit(0)
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
