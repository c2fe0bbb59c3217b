import { test } from '@japa/runner'
import type { Assert } from '@japa/assert'
import { rm } from 'node:fs/promises'
import {
  buildForProduction,
  installProductionDependencies,
  linkCheckoutModules,
  productionBuildDir,
  startBuiltServer,
} from '#tests/helpers/production_build'
import { sparePort } from '#tests/helpers/private_services'

/*
| `node ace build` must give a server that boots: plugins installed by package
| name (the bank-transfer example, enabled here) load from the build's compiled
| JavaScript, never from the checkout's TypeScript sources.
*/

/** Starts the build's server with NODE_ENV=`nodeEnv` and the example package enabled; checks what a visitor sees. */
async function bootsAndServes(build: string, nodeEnv: string, assert: Assert, cleanup: (fn: () => Promise<void>) => void) {
  const server = await startBuiltServer(build, {
    port: await sparePort(),
    env: { NODE_ENV: nodeEnv, BANK_TRANSFER_ENABLED: 'true', PLUGINS_EXTRA: '' },
  })
  cleanup(() => server.stop())
  const base = `http://127.0.0.1:${server.port}`
  const health = await fetch(`${base}/health`)
  assert.equal(health.status, 200, server.output())
  const home = await fetch(`${base}/`)
  assert.equal(home.status, 200, server.output())
  assert.include(await home.text(), '</html>')
  // The example package's admin page is mounted: it asks for a login rather than being unknown.
  const transfers = await fetch(`${base}/plugins/bank-transfer/transfers`, { redirect: 'manual' })
  assert.equal(transfers.status, 302, server.output())
  assert.match(transfers.headers.get('location') ?? '', /\/login/)
}

test.group('Production build', (group) => {
  let build: string
  group.setup(async () => {
    build = await buildForProduction(`${productionBuildDir()}-boot`)
    return () => rm(build, { recursive: true, force: true })
  })
  group.each.timeout(240_000)

  test('boots wired to the checkout node_modules, as the benchmarks run it', async ({ assert, cleanup }) => {
    await linkCheckoutModules(build)
    await bootsAndServes(build, 'test', assert, cleanup)
  })

  test('boots as deployed: npm ci --omit=dev in the build, NODE_ENV=production', async ({ assert, cleanup }) => {
    await installProductionDependencies(build)
    await bootsAndServes(build, 'production', assert, cleanup)
  })
})
