/*
| A Matinee cluster on one machine: nginx (Debian's) balancing round-robin,
| without sticky routing, over N web processes; N workers; the chain watcher
| (the x402 plugin's ace command); an S3 server on loopback (s3rver) holding
| the media; all of them on one PostgreSQL and one Redis given by the
| environment. Every process is a child of this one, stopped by its PID.
|
|   node --import @poppinss/ts-exec scripts/cluster.ts     (make cluster: scripts/cluster.sh)
|
| The same class runs the cluster test (tests/functional/cluster.spec.ts) and
| benchmark (bench/cluster.ts), which kill its processes with SIGKILL.
| This file imports nothing of the app: it only starts processes.
*/
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'

/** The project's root folder (this file is in scripts/). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export type Role = 'web' | 'worker' | 'watcher' | 's3' | 'balancer'

export interface ClusterProcess {
  name: string
  role: Role
  process: ChildProcess
  /** The loopback port it listens on (web nodes, s3, balancer). */
  port?: number
  /** The last 20 kB it printed. */
  output(): string
}

export interface ClusterOptions {
  /** Where the cluster keeps its files: nginx config, S3 data, staged uploads, logs. */
  dir: string
  /** Over this process's environment for every Matinee process (database, Redis, NODE_ENV...). */
  env?: Record<string, string>
  /** The balancer's port (0: a spare one). */
  port?: number
  webNodes?: number
  workers?: number
  /** Start the chain watcher (default true). */
  watcher?: boolean
  /**
   * How a web node runs: from the sources (default, `bin/server.ts` as
   * `node ace serve` runs it) or a production build's `bin/server.js`.
   */
  build?: string
  /** nginx worker processes (default auto: one per core). */
  balancerWorkers?: number | 'auto'
  /** Copy every process's output, prefixed with its name, to this process's stderr. */
  echo?: boolean
}

export const S3_BUCKET = 'matinee-media'
/** Where nginx takes over a checked media request (STORAGE_ACCEL_REDIRECT_PREFIX). */
const ACCEL_PREFIX = '/_storage/'

/** A loopback port nothing listens on right now. */
export function sparePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolvePort(port))
    })
  })
}

async function answers(url: string) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
    await response.arrayBuffer()
    return response.status < 500
  } catch {
    return false
  }
}

export class Cluster {
  readonly processes: ClusterProcess[] = []
  /** The environment every Matinee process of the cluster gets. */
  readonly env: Record<string, string>
  readonly url: string
  #logs = new Map<string, WriteStream>()
  #stopping = false

  private constructor(
    readonly options: ClusterOptions,
    readonly port: number
  ) {
    this.url = `http://127.0.0.1:${port}`
    this.env = {
      ...(process.env as Record<string, string>),
      FORCE_COLOR: '0',
      APP_URL: this.url,
      HOST: '127.0.0.1',
      // nginx on loopback is the only proxy: its X-Forwarded-For names the client.
      TRUSTED_PROXIES: '127.0.0.1',
      SESSION_DRIVER: 'redis',
      LIMITER_STORE: 'redis',
      // Media on the S3 server every process reaches.
      STORAGE_BACKEND: 's3',
      S3_BUCKET,
      S3_REGION: 'us-east-1',
      // S3_ENDPOINT: the S3 server's, once it started.
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
      // Media bytes are sent by nginx: a web node checks the request and answers
      // X-Accel-Redirect with a presigned GET, which nginx reads from the S3
      // server once and sends from its disk cache (nginxConfig).
      STORAGE_ACCEL_REDIRECT_PREFIX: ACCEL_PREFIX,
      // Resumable uploads staged in one folder every web node of this machine reaches.
      UPLOAD_TMP_DIR: join(options.dir, 'uploads'),
      ...options.env,
    }
  }

  /** Starts the S3 server, the web nodes, the workers, the watcher and the balancer. */
  static async start(options: ClusterOptions) {
    await mkdir(join(options.dir, 'logs'), { recursive: true })
    const cluster = new Cluster(options, options.port || (await sparePort()))
    try {
      await cluster.#startS3()
      const webs = Array.from({ length: options.webNodes ?? 2 }, (_, i) => cluster.startWeb(`web${i + 1}`))
      const workers = Array.from({ length: options.workers ?? 2 }, (_, i) => cluster.startWorker(`worker${i + 1}`))
      await Promise.all([...webs, ...workers])
      if (options.watcher ?? true) cluster.#spawn('watcher', 'watcher', process.execPath, ['ace', 'x402:watch'])
      await cluster.#startBalancer()
      return cluster
    } catch (error) {
      await cluster.stop()
      throw error
    }
  }

  /** Processes of a role that are still running. */
  alive(role?: Role) {
    return this.processes.filter((entry) => (!role || entry.role === role) && entry.process.exitCode === null && entry.process.signalCode === null)
  }

  get(name: string) {
    const found = this.processes.find((entry) => entry.name === name)
    if (!found) throw new Error(`no process ${name} in the cluster`)
    return found
  }

  /** The web nodes' own URLs (bypassing the balancer). */
  webUrls() {
    return this.processes.filter((entry) => entry.role === 'web').map((entry) => `http://127.0.0.1:${entry.port}`)
  }

  /** Kills a process (SIGKILL by default, as a crash or a lost machine would) and waits for its exit. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL') {
    const entry = this.get(name)
    if (entry.process.exitCode !== null || entry.process.signalCode !== null) return
    const exited = new Promise((resolveExit) => entry.process.once('exit', resolveExit))
    entry.process.kill(signal)
    await exited
  }

  /** The PIDs of a process's children (a worker's FFmpeg...). */
  childPids(name: string) {
    const pid = this.get(name).process.pid
    const listed = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
    return listed.stdout.split('\n').map((line) => Number(line.trim())).filter((child) => child > 0)
  }

  /** SIGKILLs a process and its children, as the loss of its machine would. */
  async killWithChildren(name: string) {
    const children = this.childPids(name)
    await this.kill(name)
    for (const child of children) {
      try {
        process.kill(child, 'SIGKILL')
      } catch {}
    }
  }

  /** What the exited processes printed last (for failure messages). */
  deaths() {
    return this.processes
      .filter((entry) => !this.alive().includes(entry))
      .map((entry) => `${entry.name} exited (${entry.process.exitCode ?? entry.process.signalCode}):\n${entry.output().slice(-3000)}`)
      .join('\n\n')
  }

  /** A web node (named `name`), on a spare port; resolves once it answers /health. */
  async startWeb(name: string) {
    const port = await sparePort()
    const env = { PORT: String(port) }
    const entry = this.options.build
      ? this.#spawn(name, 'web', process.execPath, ['bin/server.js'], env, this.options.build, port)
      : this.#spawn(name, 'web', process.execPath, ['--import', '@poppinss/ts-exec', 'bin/server.ts'], env, projectRoot, port)
    await this.#until(entry, () => answers(`http://127.0.0.1:${port}/health`), 120_000, `${name} answering on port ${port}`)
    return entry
  }

  /** A worker on every queue; resolves once it consumes. */
  async startWorker(name: string) {
    // Its transcodes run in the idle CPU class (TRANSCODE_CPU=background, the default): on one
    // machine they take only the CPU the web nodes leave, and a viewer's next segment never
    // waits behind one; its watermark renders, which players wait for, run in the normal class.
    const entry = this.#spawn(name, 'worker', process.execPath, ['ace', 'queue:work'])
    await this.#until(entry, async () => /consuming/.test(entry.output()), 120_000, `${name} consuming`)
    return entry
  }

  async #startS3() {
    const entry = this.#spawn('s3', 's3', process.execPath, ['--import', '@poppinss/ts-exec', 'scripts/s3_server.ts', S3_BUCKET])
    await this.#until(entry, async () => /^S3 http/m.test(entry.output()), 60_000, 'the S3 server')
    const endpoint = entry.output().match(/^S3 (http\S+)/m)![1]
    entry.port = Number(new URL(endpoint).port)
    this.env.S3_ENDPOINT = endpoint
  }

  /** nginx's configuration: round-robin over the web nodes, no stickiness. */
  nginxConfig() {
    const dir = join(this.options.dir, 'nginx')
    const webs = this.processes.filter((entry) => entry.role === 'web')
    return `# Written by scripts/cluster.ts (the shape of deploy/nginx.conf, on loopback).
worker_processes ${this.options.balancerWorkers ?? 'auto'};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  keepalive_requests 100000;
  # Media the app checked and handed over: read from the S3 server once, kept on disk
  # a minute (as long as a web node holds an object in memory), sent with sendfile.
  proxy_cache_path ${dir}/media-cache levels=1:2 keys_zone=media:16m max_size=4g inactive=10m use_temp_path=off;
  sendfile on;
  tcp_nopush on;
  upstream matinee {
${webs.map((entry) => `    server 127.0.0.1:${entry.port} max_fails=3 fail_timeout=2s;`).join('\n')}
    keepalive 128;
    # Below Node's keep-alive timeout (5 s): nginx never reuses a connection the node is closing.
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${this.port};
    # Upload chunks (tus) stream through; the app enforces its own size cap.
    client_max_body_size 0;
    proxy_request_buffering off;
    location / {
      proxy_pass http://matinee;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # A node that died: the request goes to the next one (nginx resends only
      # what the dead node never received, or an idempotent request).
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
      proxy_read_timeout 300s;
      # Responses are buffered in memory (a 4 s 1080p segment fits), so a node hands a segment over
      # at once rather than in 4 kB steps at the viewer's pace; beyond that nginx reads at the client's
      # pace (no temp files). Transmit's server-sent events say X-Accel-Buffering: no themselves.
      proxy_buffer_size 16k;
      proxy_buffers 64 64k;
      proxy_busy_buffers_size 128k;
      proxy_max_temp_file_size 0;
      # Which node answered (the cluster test checks that requests alternate).
      add_header X-Upstream $upstream_addr always;
    }
    # Reached only through a web node's X-Accel-Redirect, after its checks: the path
    # and query of a presigned GET on the S3 server (the bucket stays private).
    location ${ACCEL_PREFIX} {
      internal;
      proxy_pass ${this.env.S3_ENDPOINT}/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache media;
      # The object, not its signature: every presigned GET of a key shares one entry.
      proxy_cache_key $uri;
      proxy_cache_valid 200 60s;
      # Viewers arriving together wait for one read of a segment.
      proxy_cache_lock on;
      proxy_ignore_headers Cache-Control Expires Set-Cookie;
      proxy_hide_header x-amz-request-id;
      proxy_hide_header x-amz-id-2;
      proxy_hide_header ETag;
      proxy_hide_header Last-Modified;
      # The web node's answer already says these (nginx keeps its Cache-Control, Content-Type, Accept-Ranges).
      proxy_hide_header Accept-Ranges;
      # "<web node> : <S3 server>", or the web node alone when the cache had the object.
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`
  }

  async #startBalancer() {
    const dir = join(this.options.dir, 'nginx')
    await mkdir(join(dir, 'tmp'), { recursive: true })
    await writeFile(join(dir, 'nginx.conf'), this.nginxConfig())
    const entry = this.#spawn('balancer', 'balancer', '/usr/sbin/nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], {}, projectRoot, this.port)
    await this.#until(entry, () => answers(`${this.url}/health`), 20_000, `nginx on port ${this.port}`)
  }

  #spawn(name: string, role: Role, command: string, args: string[], env: Record<string, string> = {}, cwd = projectRoot, port?: number) {
    const child = spawn(command, args, { cwd, env: { ...this.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    const log = createWriteStream(join(this.options.dir, 'logs', `${name}.log`), { flags: 'a' })
    this.#logs.set(name, log)
    let output = ''
    const keep = (chunk: Buffer) => {
      output = (output + chunk).slice(-20_000)
      log.write(chunk)
      if (this.options.echo) for (const line of String(chunk).split('\n').filter(Boolean)) process.stderr.write(`[${name}] ${line}\n`)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    child.on('error', (error) => keep(Buffer.from(`${error.message}\n`)))
    const entry: ClusterProcess = { name, role, process: child, port, output: () => output }
    // A restarted node of the same name replaces the dead one.
    const index = this.processes.findIndex((other) => other.name === name)
    if (index >= 0) this.processes.splice(index, 1, entry)
    else this.processes.push(entry)
    return entry
  }

  async #until(entry: ClusterProcess, check: () => Promise<boolean>, timeoutMs: number, what: string) {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (entry.process.exitCode !== null || entry.process.signalCode !== null) throw new Error(`${entry.name} exited before ${what}:\n${entry.output().slice(-4000)}`)
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${entry.output().slice(-4000)}`)
      await sleep(200)
    }
  }

  /**
   * Stops everything still running, by PID: the balancer first, then the
   * Matinee processes (SIGTERM, their graceful shutdown; SIGKILL after 20 s),
   * the S3 server last.
   */
  async stop() {
    if (this.#stopping) return
    this.#stopping = true
    const stopAll = async (roles: Role[], signal: NodeJS.Signals) =>
      Promise.all(
        this.alive().filter((entry) => roles.includes(entry.role)).map(async (entry) => {
          const exited = new Promise((resolveExit) => entry.process.once('exit', resolveExit))
          entry.process.kill(signal)
          const timer = setTimeout(() => entry.process.kill('SIGKILL'), 20_000)
          await exited
          clearTimeout(timer)
        })
      )
    await stopAll(['balancer'], 'SIGQUIT')
    await stopAll(['web', 'worker', 'watcher'], 'SIGTERM')
    await stopAll(['s3'], 'SIGTERM')
    for (const log of this.#logs.values()) log.end()
  }
}

/** `make cluster`: starts the cluster, prints its URL, runs until Ctrl-C (or a process dies). */
async function main() {
  const dir = resolve(projectRoot, process.env.CLUSTER_DIR ?? 'tmp/cluster')
  const count = (name: string, fallback: number) => {
    const value = Number(process.env[name] ?? fallback)
    if (!Number.isInteger(value) || value < 1 || value > 16) throw new Error(`${name} must be a whole number from 1 to 16 (got ${process.env[name]})`)
    return value
  }
  const port = Number(process.env.CLUSTER_PORT ?? 8380)
  const options: ClusterOptions = { dir, port, webNodes: count('CLUSTER_WEB_NODES', 2), workers: count('CLUSTER_WORKERS', 2), echo: process.env.CLUSTER_ECHO === '1' }
  console.error(`[cluster] starting ${options.webNodes} web nodes, ${options.workers} workers, the chain watcher, s3rver and nginx (logs: ${join(dir, 'logs')})`)
  let cluster: Cluster
  try {
    cluster = await Cluster.start(options)
  } catch (error) {
    console.error(`[cluster] did not start: ${(error as Error).message}`)
    process.exit(1)
  }
  let stopping = false
  const stop = async (code: number) => {
    stopping = true
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    console.error('[cluster] stopping every process it started...')
    await cluster.stop()
    console.error('[cluster] stopped')
    process.exit(code)
  }
  const onSignal = () => void stop(0)
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // The demo accounts and videos, stored on the cluster's S3 server (so after it started).
  if (process.env.CLUSTER_SEED !== '0') {
    const seeded = spawnSync(process.execPath, ['ace', 'db:seed'], { cwd: projectRoot, env: cluster.env, stdio: 'inherit' })
    if (seeded.status !== 0) console.error('[cluster] node ace db:seed failed (see above); the cluster runs without demo data')
  }
  for (const entry of cluster.processes) {
    console.error(`[cluster] ${entry.name.padEnd(8)} pid ${entry.process.pid}${entry.port ? `, port ${entry.port}` : ''}`)
    entry.process.once('exit', (code, signal) => {
      if (!stopping) {
        console.error(`[cluster] ${entry.name} exited (${code ?? signal}); its log: ${join(dir, 'logs', `${entry.name}.log`)}`)
      }
    })
  }
  console.log(`\nMatinee cluster ready: ${cluster.url}  (Ctrl-C stops it)\n`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
