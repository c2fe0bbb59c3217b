import { randomBytes } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import User from '#models/user'
import Video from '#models/video'
import accounts from '#services/account_service'
import videos from '#services/video_service'
import { probe } from '#services/media/probe'

/** A creator account for benchmarks (created once). */
export async function benchCreator() {
  const existing = await User.findByEmail('bench-creator@matinee.local')
  if (existing) return existing
  return accounts.register({ username: `bench_${randomBytes(3).toString('hex')}`, email: 'bench-creator@matinee.local', password: 'bench creator secret' }, 'creator')
}

/** A video row + stored master, queued for transcoding, as an upload makes it. */
export async function queuedVideo(path: string, title: string): Promise<Video> {
  await probe(path)
  const info = await stat(path)
  return videos.createFromUpload(await benchCreator(), { title, currency: 'USD', price: '0', visibility: 'draft' }, {
    path,
    filename: path.split('/').pop()!,
    size: info.size,
  })
}

export function startWorker(extraEnv: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['ace', 'queue:work', '--queue', 'transcode'], {
    env: { ...process.env, NODE_ENV: 'test', FORCE_COLOR: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export async function stopWorker(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode) return
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill(signal)
  })
}

export async function readyOrFailed(id: string) {
  const video = await Video.find(id)
  return !!video && (video.status === 'ready' || video.status === 'failed')
}

export { readFile }
