import { randomBytes } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import env from '#start/env'
import { exec } from './helpers.js'
import User from '#models/user'
import Video from '#models/video'
import accounts from '#services/account_service'
import videos from '#services/video_service'
import { probe } from '#services/media/probe'
import { buildForProduction, linkCheckoutModules, startBuiltServer } from '#tests/helpers/production_build'

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

export function startWorker(extraEnv: Record<string, string> = {}, queues = ['transcode']): ChildProcess {
  return spawn(process.execPath, ['ace', 'queue:work', ...queues.flatMap((queue) => ['--queue', queue])], {
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

/** The pid of the process listening on the test port (the web server itself). */
export async function listenerPid(port: number) {
  const { stdout } = await exec('ss', ['-ltnpH', `sport = :${port}`])
  const match = stdout.match(/pid=(\d+)/)
  return match ? Number(match[1]) : null
}

/** The production build, wired to this checkout's node_modules: built once per benchmark process. */
let built: Promise<string> | undefined

export function productionBuild() {
  built ??= buildForProduction().then(async (build) => {
    await linkCheckoutModules(build)
    return build
  })
  return built
}

/**
 * The production web server (`node bin/server.js` of the build) on the test
 * port, with the test environment plus `extraEnv`. Stop it with `stop()`.
 */
export async function startProductionServer(extraEnv: Record<string, string> = {}) {
  const port = env.get('PORT')
  if (await listenerPid(port)) throw new Error(`port ${port} is taken: stop what listens there first`)
  const build = await productionBuild()
  const server = await startBuiltServer(build, {
    port,
    echoStderr: true,
    env: {
      NODE_ENV: 'test',
      PLUGINS_EXTRA: '',
      // As recommended for web nodes (README, Dockerfile): a small young
      // generation, so upload buffers are collected promptly.
      NODE_OPTIONS: process.env.WEB_NODE_OPTIONS ?? '--max-semi-space-size=1',
      ...extraEnv,
    },
  })
  return { pid: server.process.pid!, build, stop: server.stop }
}
