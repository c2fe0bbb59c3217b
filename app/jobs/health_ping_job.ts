import { hostname } from 'node:os'

/**
 * Proves a worker is consuming jobs: answers with who handled the ping.
 */
export default async function healthPing(data: { sentAt?: number }) {
  return { pong: true, host: hostname(), pid: process.pid, sentAt: data?.sentAt ?? null, handledAt: Date.now() }
}
