import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'

export class MediaRejectedError extends Error {
  code = 'E_MEDIA_REJECTED'
}

/** An FFmpeg or ffprobe run that passed its wall-clock limit (it was killed). */
export class MediaTimeoutError extends Error {
  code = 'E_MEDIA_TIMEOUT'
}

export interface RunOptions {
  /** Called with seconds of output written so far (from -progress). */
  onProgress?: (seconds: number) => void
  /** Cancels the run: its whole process group is killed. */
  signal?: AbortSignal
  /** Wall-clock limit; past it the whole process group is killed and the run rejects with MediaTimeoutError. */
  timeoutMs?: number
  /**
   * 'background': the run is started under SCHED_IDLE (util-linux's chrt),
   * so it only gets CPU no normal process wants (see mediaConfig.transcodeCpu).
   */
  cpu?: 'background' | 'normal'
}

/**
 * Process groups of the runs in flight. FFmpeg runs in a group of its own,
 * so killing the group also kills anything it started (or a wrapper script's
 * children); a worker that exits takes its runs with it.
 */
const running = new Set<ChildProcess>()

function killGroup(child: ChildProcess) {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

process.on('exit', () => running.forEach(killGroup))

/**
 * A worker killed with SIGKILL runs no exit handler, and FFmpeg ignores
 * SIGPIPE on its progress pipe, so an orphaned encode went on for minutes.
 * util-linux's setpriv sets the parent-death signal and execs the binary:
 * the kernel kills FFmpeg the moment its worker dies. Without setpriv (not
 * Linux), runs are started directly as before.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path))
/**
 * chrt execs the next program under the idle scheduling class, which its
 * threads and children inherit; lowering one's own class needs no privilege.
 * Where it is missing (not Linux) a background run is a normal one.
 */
const CHRT = ['/usr/bin/chrt', '/bin/chrt'].find((path) => existsSync(path))

function spawnTied(binary: string, args: string[], cpu: RunOptions['cpu']) {
  const options = { stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], detached: true }
  const tied = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', binary, ...args] : [binary, ...args]
  const command = cpu === 'background' && CHRT ? [CHRT, '--idle', '0', ...tied] : tied
  const child = spawn(command[0], command.slice(1), options)
  if (cpu === 'background' && child.pid !== undefined) lowerAutogroup(child.pid)
  return child
}

/**
 * A run is a session of its own (detached, for its process group), and where
 * the kernel groups tasks by session (autogroup: a desktop or a terminal, not
 * a container or a systemd service, which have cgroups) the scheduler first
 * shares the CPU between sessions: each background run would get as much as
 * all the web nodes of a `make dev` or `make cluster` together, whatever its
 * class. Its session's nice is set to 19 (lowering it needs no privilege;
 * the kernel refuses a second change within 100 ms to non-root, hence the
 * one retry). spawn() returns after the exec, so the session is the run's.
 */
function lowerAutogroup(pid: number, retry = true) {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, '19')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN' && retry) setTimeout(() => lowerAutogroup(pid, false), 110).unref()
    // ENOENT: a kernel without autogroup, or the run already ended.
  }
}

/**
 * The arguments that open a user's file: only with the demuxer ffprobe
 * named (from the allowlist) and only through the `file` protocol, so a
 * file cannot make FFmpeg read other files or URLs.
 */
export function inputArgs(path: string, demuxer: string) {
  return ['-protocol_whitelist', 'file', '-f', demuxer, '-i', path]
}

/**
 * Runs ffmpeg or ffprobe; rejects with the tail of stderr on failure.
 * With `onProgress`, ffmpeg must be given `-progress pipe:1`.
 */
export function run(binary: 'ffmpeg' | 'ffprobe', args: string[], options: RunOptions = {}) {
  return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    if (options.signal?.aborted) return reject(new Error(`${binary} was cancelled before it started`))
    const child = spawnTied(binary, args, options.cpu)
    running.add(child)
    let stdout = ''
    let stderr = ''
    let pending = ''
    let stoppedBecause: Error | null = null
    const stop = (reason: Error) => {
      stoppedBecause ??= reason
      killGroup(child)
    }
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => stop(new MediaTimeoutError(`${binary} ran longer than its ${Math.round(options.timeoutMs! / 1000)} s limit and was stopped`)),
            options.timeoutMs
          )
    const onAbort = () => stop(new Error(`${binary} was cancelled`))
    options.signal?.addEventListener('abort', onAbort, { once: true })
    const settle = () => {
      running.delete(child)
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }

    child.stdout.on('data', (chunk: Buffer) => {
      if (!options.onProgress) {
        stdout += chunk
        return
      }
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        const match = line.match(/^out_time_(?:us|ms)=(\d+)/)
        if (match) options.onProgress(Number(match[1]) / 1_000_000)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk).slice(-8000)
    })
    child.on('error', (error: any) => {
      settle()
      reject(error.code === 'ENOENT' ? new Error(`${binary} is not installed (apt-get install ffmpeg)`) : error)
    })
    // Nothing the run started may outlive it (and hold its output pipes open).
    child.on('exit', () => killGroup(child))
    child.on('close', (code, signal) => {
      settle()
      if (stoppedBecause) reject(stoppedBecause)
      else if (code === 0) resolve({ stdout, stderr })
      else if (code === 127 && /failed to execute/.test(stderr)) reject(new Error(`${binary} is not installed (apt-get install ffmpeg)`))
      else reject(new Error(`${binary} exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
}
