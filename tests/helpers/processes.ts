import { spawn, type ChildProcess } from 'node:child_process'
import app from '@adonisjs/core/services/app'

export interface AceResult {
  code: number | null
  output: string
}

/** Runs `node ace <args>` in the test environment and collects its output. */
export function runAce(args: string[], env: Record<string, string> = {}, timeoutMs = 45_000): Promise<AceResult> {
  return new Promise((resolve, reject) => {
    const child = startAce(args, env)
    let output = ''
    child.stdout!.on('data', (chunk) => (output += chunk))
    child.stderr!.on('data', (chunk) => (output += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ace ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** Starts a long-running `node ace <args>` (e.g. a worker); the caller stops it by PID. */
export function startAce(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['ace', ...args], {
    cwd: app.makePath(),
    env: { ...process.env, NODE_ENV: 'test', FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/**
 * A web server from the sources (`bin/server.ts`, as `node ace serve` runs
 * it, without the file watcher) on `env.PORT`; resolves once it answers HTTP.
 */
export async function startWebServer(env: Record<string, string>, timeoutMs = 60_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', '@poppinss/ts-exec', 'bin/server.ts'], {
    cwd: app.makePath(),
    env: { ...process.env, NODE_ENV: 'test', FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const collect = (chunk: Buffer) => (output = (output + chunk).slice(-10_000))
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const answered = await fetch(`http://127.0.0.1:${env.PORT}/health`).then(
      () => true,
      () => false
    )
    if (answered) break
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the web server did not answer on port ${env.PORT}:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return child
}

/** Resolves once the process printed something matching `pattern`. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk
      if (pattern.test(output)) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        child.stderr!.off('data', onData)
        resolve(output)
      }
    }
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs)
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
  })
}

/** Sends a signal and waits for the exit code. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`process ${child.pid} did not stop within ${timeoutMs} ms`))
    }, timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
    child.kill(signal)
  })
}

export interface RunningWorker {
  process: ChildProcess
  /** Stops the worker (SIGTERM) and closes this process's queue producers. */
  stop(): Promise<void>
}

/** A `node ace queue:work` (all queues, or those named) that is consuming when this resolves. */
export async function startWorker(queueNames: string[] = [], env: Record<string, string> = {}): Promise<RunningWorker> {
  const child = startAce(['queue:work', ...queueNames.flatMap((name) => ['--queue', name])], env)
  await waitForOutput(child, /consuming/)
  return {
    process: child,
    async stop() {
      await stopProcess(child)
      const { default: queues } = await import('#services/queue_service')
      await queues.closeAll()
    },
  }
}
