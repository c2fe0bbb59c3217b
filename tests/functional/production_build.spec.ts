import { test } from '@japa/runner'
import type { Assert } from '@japa/assert'
import { rm } from 'node:fs/promises'
import {
  buildForProduction,
  installProductionDependencies,
  linkCheckoutModules,
  productionBuildDir,
  sparePort,
  startBuiltServer,
} from '#tests/helpers/production_build'

/*
| `node ace build` must give a server that boots: plugins installed by package
| name (the bank-transfer example, enabled here) load from the build's compiled
| JavaScript, never from the checkout's TypeScript sources.
*/
async function pagesAnswer(assert: Assert, port: number, output: () => string) {
  const base = `http://127.0.0.1:${port}`
  const health = await fetch(`${base}/health`)
  assert.equal(health.status, 200, output())
  const home = await fetch(`${base}/`)
  assert.equal(home.status, 200, output())
  assert.include(await home.text(), '</html>')
  // The example package's admin page is mounted: it asks for a login rather than being unknown.
  const transfers = await fetch(`${base}/plugins/bank-transfer/transfers`, { redirect: 'manual' })
  assert.equal(transfers.status, 302, output())
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
    const server = await startBuiltServer(build, {
      port: await sparePort(),
      env: { NODE_ENV: 'test', BANK_TRANSFER_ENABLED: 'true', PLUGINS_EXTRA: '' },
    })
    cleanup(() => server.stop())
    await pagesAnswer(assert, server.port, server.output)
  })

  test('boots as deployed: npm ci --omit=dev in the build, NODE_ENV=production', async ({ assert, cleanup }) => {
    await installProductionDependencies(build)
    const server = await startBuiltServer(build, {
      port: await sparePort(),
      env: { NODE_ENV: 'production', BANK_TRANSFER_ENABLED: 'true', PLUGINS_EXTRA: '' },
    })
    cleanup(() => server.stop())
    await pagesAnswer(assert, server.port, server.output)
  })
})
