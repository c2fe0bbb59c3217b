import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'

const exec = promisify(execFile)

/** Debian's PostgreSQL server binaries (the newest installed version; 15 on this project's machines). */
function pgBin() {
  const versions = readdirSync('/usr/lib/postgresql', { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d+$/.test(entry.name))
    .map((entry) => Number(entry.name))
    .sort((a, b) => b - a)
  if (!versions.length) throw new Error('No PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql)')
  return `/usr/lib/postgresql/${versions[0]}/bin`
}

/**
 * Private Redis and PostgreSQL servers for fault tests and benches: on spare
 * loopback ports, in a temp folder, started and killed by PID. The machine's
 * shared servers (5432, 6379) are never touched.
 */

/** A loopback port nothing listens on right now (for a server a test starts). */
export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A temp folder for the servers' files; PostgreSQL refuses to run as root, so it belongs to `postgres` then. */
export async function privateDir(label: string) {
  const dir = await mkdtemp(join(tmpdir(), `matinee-${label}-`))
  if (process.getuid?.() === 0) {
    const { stdout } = await exec('id', ['-u', 'postgres'])
    const { stdout: gid } = await exec('id', ['-g', 'postgres'])
    await chown(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  return dir
}

/** Runs a PostgreSQL binary, as `postgres` when we are root (initdb and pg_ctl refuse root). */
function pgTool(tool: string, args: string[]) {
  const command = join(pgBin(), tool)
  return process.getuid?.() === 0
    ? exec('runuser', ['-u', 'postgres', '--', command, ...args], { maxBuffer: 1 << 20 })
    : exec(command, args, { maxBuffer: 1 << 20 })
}

/** A `redis-server` that keeps nothing on disk (like the one Matinee expects: a restart empties it). */
export class PrivateRedis {
  #process: ChildProcess | null = null

  private constructor(readonly port: number) {}

  static async start() {
    const redis = new PrivateRedis(await sparePort())
    await redis.start()
    return redis
  }

  get running() {
    return this.#process !== null
  }

  async start() {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    })
    this.#process = child
    const deadline = Date.now() + 10_000
    while (!(await this.#answers())) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`)
      await sleep(50)
    }
  }

  /** Killed outright (SIGKILL), as a crash or a lost machine would. */
  async kill() {
    const child = this.#process
    if (!child) return
    this.#process = null
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  async #answers() {
    try {
      const { stdout } = await exec('redis-cli', ['-p', String(this.port), 'ping'])
      return stdout.trim() === 'PONG'
    } catch {
      return false
    }
  }
}

/** A PostgreSQL cluster of its own (initdb, trust auth on loopback). */
export class PrivatePostgres {
  #running = false

  private constructor(
    readonly port: number,
    readonly dir: string
  ) {}

  static async create(dir: string) {
    const postgres = new PrivatePostgres(await sparePort(), dir)
    await pgTool('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync'])
    await postgres.start()
    return postgres
  }

  get running() {
    return this.#running
  }

  async start() {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`
    await pgTool('pg_ctl', ['-D', join(this.dir, 'data'), '-o', options, '-l', join(this.dir, 'postgres.log'), '-w', 'start'])
    this.#running = true
  }

  /** Stopped at once (`immediate`: no goodbye to clients), as a crash would. */
  async kill() {
    if (!this.#running) return
    this.#running = false
    await pgTool('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'])
  }

  async createDatabase(name: string) {
    await exec('psql', ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-c', `CREATE DATABASE "${name}"`])
  }
}

/** Stops whatever of the servers is running and deletes their folder. */
export async function removePrivateServices(dir: string, services: Array<PrivateRedis | PrivatePostgres | undefined>) {
  for (const service of services) await service?.kill().catch(() => {})
  await rm(dir, { recursive: true, force: true })
}
