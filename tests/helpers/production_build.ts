/*
| The production build (`node ace build`) and its web server, for the test
| that proves the build boots and for the benchmarks that measure it.
|
| A build lives in its own folder per environment (tmp/production-build-<database>),
| not in build/: a test or bench run never overwrites the build a developer is
| deploying, and two environments on one machine never overwrite each other's.
*/
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'
import app from '@adonisjs/core/services/app'
import env from '#start/env'

const exec = promisify(execFile)

/** The folder of this environment's production build. */
export function productionBuildDir() {
  return app.makePath('tmp', `production-build-${env.get('DB_DATABASE')}`)
}

/**
 * `node ace build` into `outDir`: the project's tsconfig with another outDir
 * (the assembler builds into the outDir of the tsconfig it is given).
 */
export async function buildForProduction(outDir = productionBuildDir()) {
  const tsconfig = `${outDir}.tsconfig.json`
  await mkdir(dirname(tsconfig), { recursive: true })
  await writeFile(
    tsconfig,
    JSON.stringify({
      extends: relative(dirname(tsconfig), app.makePath('tsconfig.json')),
      compilerOptions: { outDir: relative(dirname(tsconfig), outDir) },
    })
  )
  try {
    // Type errors are `make typecheck`'s to report; here what matters is what runs.
    await exec(process.execPath, ['ace', 'build', '--ignore-ts-errors', '--tsconfig', relative(app.makePath(), tsconfig)], {
      cwd: app.makePath(),
      env: { ...process.env, FORCE_COLOR: '0' },
      maxBuffer: 1 << 24,
    })
  } finally {
    await rm(tsconfig, { force: true })
  }
  return outDir
}

/**
 * What a deployment does in the build (Dockerfile): `npm ci --omit=dev`.
 * Packages come from npm's cache when it has them (`make test` filled it).
 */
export async function installProductionDependencies(build: string) {
  await exec('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: build,
    env: { ...process.env, NODE_ENV: 'production' },
    maxBuffer: 1 << 24,
  })
}

/**
 * A quicker stand-in for `npm ci` in the build, for benchmarks: the registry
 * packages of this checkout's node_modules (dev ones too, since benches run
 * the server with NODE_ENV=test and its pretty logger), and every `file:`
 * dependency of package.json linked to the build's own compiled copy, as npm
 * links it. Linking those to this checkout would hand the server TypeScript
 * sources it cannot run (the bank-transfer example package once did).
 */
export async function linkCheckoutModules(build: string) {
  const modules = join(build, 'node_modules')
  await rm(modules, { recursive: true, force: true })
  await mkdir(modules, { recursive: true })
  const manifest = JSON.parse(await readFile(join(build, 'package.json'), 'utf8'))
  const local = new Map<string, string>()
  for (const [name, spec] of Object.entries<string>({ ...manifest.dependencies, ...manifest.devDependencies })) {
    if (spec.startsWith('file:')) local.set(name, join(build, spec.slice('file:'.length)))
  }
  const checkout = app.makePath('node_modules')
  const names: string[] = []
  for (const entry of await readdir(checkout)) {
    if (entry.startsWith('.')) continue
    if (entry.startsWith('@')) names.push(...(await readdir(join(checkout, entry))).map((member) => `${entry}/${member}`))
    else names.push(entry)
  }
  for (const name of names) {
    const link = join(modules, name)
    await mkdir(dirname(link), { recursive: true })
    const target = local.get(name) ?? join(checkout, name)
    await symlink(relative(dirname(link), target), link)
  }
}

export interface BuiltServer {
  process: ChildProcess
  port: number
  /** Everything the server printed (stdout and stderr), for error messages. */
  output(): string
  stop(): Promise<void>
}

export interface BuiltServerOptions {
  port: number
  /** Over this process's environment (which holds the loaded .env.test). */
  env?: Record<string, string>
  /** Copy the server's stderr to ours as it comes (benchmarks show its errors). */
  echoStderr?: boolean
  timeoutMs?: number
}

/**
 * `node bin/server.js` of a build. Resolves once it answers HTTP; rejects
 * with its output if it exits or stays silent first.
 */
export async function startBuiltServer(build: string, options: BuiltServerOptions): Promise<BuiltServer> {
  const { port, echoStderr = false, timeoutMs = 60_000 } = options
  const child = spawn(process.execPath, ['bin/server.js'], {
    cwd: build,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      // Relative folders are the checkout's, not the build's.
      STORAGE_LOCAL_ROOT: app.makePath(env.get('STORAGE_LOCAL_ROOT')),
      UPLOAD_TMP_DIR: app.makePath(env.get('UPLOAD_TMP_DIR', 'tmp/uploads')),
      FORCE_COLOR: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk).slice(-20_000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', (chunk) => {
    keep(chunk)
    if (echoStderr) process.stderr.write(chunk)
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode) {
      throw new Error(`the production server exited (${child.exitCode ?? child.signalCode}) before answering:\n${output}`)
    }
    const answered = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null)
    if (answered) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`the production server did not answer within ${timeoutMs} ms:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return { process: child, port, output: () => output, stop }
}
