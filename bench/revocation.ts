/*
| Revocation benchmark (make bench B=revocation): two web processes of one
| instance (same PostgreSQL, Redis and storage), as behind a load balancer.
|   revocation_propagation_ms_p99   a viewer closes the player on node A: time
|                                   from the close being sent to node B's first
|                                   refusal of that session's playlist, which node
|                                   B held in memory (fast segment path); target ≤ 1,000
|   revocation_trials               sessions measured
| Smoke (BENCH_SMOKE=1): 5 sessions.
*/
import type { ChildProcess } from 'node:child_process'
import User from '#models/user'
import { figure, smokeOr } from './helpers.js'
import { benchVideo } from './playback.js'
import { WebClient } from '../tests/helpers/web_client.js'
import { startWebServer, stopProcess } from '../tests/helpers/processes.js'
import { sparePort } from '../tests/helpers/private_services.js'

const PASSWORD = 'bench viewer secret'

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** A GET on a node with the browser's cookies; the status only. */
async function statusOn(node: string, client: WebClient, url: string) {
  const response = await fetch(new URL(url, node), { redirect: 'manual', headers: { cookie: client.cookieHeader() } })
  await response.arrayBuffer()
  return response.status
}

export default async function revocationBench() {
  const trials = smokeOr(200, 5)
  const video = await benchVideo(smokeOr(16, 8), smokeOr('Revocation bench', 'Revocation bench (smoke)'))
  const servers: ChildProcess[] = []
  try {
    const ports = [await sparePort(), await sparePort()]
    for (const port of ports) {
      servers.push(
        await startWebServer({
          PORT: String(port),
          HOST: '127.0.0.1',
          APP_URL: `http://127.0.0.1:${port}`,
          // One viewer opens every session measured: far more than a viewer may.
          RATE_LIMIT_PLAYBACK_OPEN: '100000/1m',
        })
      )
    }
    const [nodeA, nodeB] = ports.map((port) => `http://127.0.0.1:${port}`)

    const username = 'bench_revoker'
    if (!(await User.findBy('username', username))) {
      await User.create({ username, email: `${username}@matinee.local`, password: PASSWORD, role: 'viewer' })
    }
    const client = new WebClient(nodeA)
    const login = await client.login(username, PASSWORD)
    if (login.status !== 302) throw new Error(`bench login failed: ${login.status}`)

    const samples: number[] = []
    for (let trial = 0; trial < trials; trial++) {
      const opened = await client.api('POST', `/videos/${video.id}/playback`)
      if (opened.status !== 201) throw new Error(`open: ${opened.status} ${JSON.stringify(opened.body)}`)
      const master = await fetch(new URL(opened.body.masterUrl, nodeA), { headers: { cookie: client.cookieHeader() } })
      const variantUrl = (await master.text()).split('\n').find((line) => line && !line.startsWith('#'))!
      // Node B holds the session in memory now.
      if ((await statusOn(nodeB, client, variantUrl)) !== 200) throw new Error('node B did not serve the session')

      const started = performance.now()
      const closed = await client.api('DELETE', `/playback/${opened.body.sessionId}`)
      if (closed.status !== 204) throw new Error(`close: ${closed.status}`)
      for (;;) {
        const status = await statusOn(nodeB, client, variantUrl)
        if (status !== 200) break
        if (performance.now() - started > 60_000) throw new Error('node B still serves a session closed a minute ago')
      }
      samples.push(performance.now() - started)
    }
    figure('revocation_propagation_ms_p99', Math.round(percentile(samples, 99) * 10) / 10, 'ms')
    figure('revocation_propagation_ms_p50', Math.round(percentile(samples, 50) * 10) / 10, 'ms')
    figure('revocation_trials', samples.length, 'sessions')
  } finally {
    await Promise.all(servers.map((server) => stopProcess(server)))
  }
}
