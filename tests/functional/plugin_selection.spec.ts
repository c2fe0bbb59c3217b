import { test } from '@japa/runner'
import { fileURLToPath } from 'node:url'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import plugins from '#services/plugins'
import Video from '#models/video'
import { loadPlugins, PluginBootError } from '#hooks/plugin_loader'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { tusUpload } from '#tests/helpers/tus_upload'
import { creatorClient, storedKeys } from '#tests/helpers/videos'
import { startWebServer, stopProcess } from '#tests/helpers/processes'

/*
| The plugin boundary: a third-party plugin (tests/fixtures/plugins/memory-storage)
| declares its own environment variable, validated at boot, and its storage
| backend is selected by STORAGE_BACKEND like the first-party ones.
*/
const root = () => fileURLToPath(app.appRoot)
const memoryPlugin = './tests/fixtures/plugins/memory-storage'
const bootPort = String(Number(env.get('PORT')) + 10_001)

/** Boots a web server with `extra` env; resolves with its output if it refused to start. */
async function bootRefusal(extra: Record<string, string>) {
  try {
    const server = await startWebServer({ PORT: bootPort, APP_URL: `http://127.0.0.1:${bootPort}`, ...extra }, 40_000)
    await stopProcess(server)
    return null
  } catch (error) {
    return (error as Error).message
  }
}

test.group('Plugin environment variables', (group) => {
  const saved = process.env.MEMORY_STORAGE_MAX_BYTES
  group.each.teardown(() => {
    if (saved === undefined) delete process.env.MEMORY_STORAGE_MAX_BYTES
    else process.env.MEMORY_STORAGE_MAX_BYTES = saved
  })

  test('a plugin validates the variables it declares; a missing or malformed one is refused naming plugin and variable', async ({ assert }) => {
    delete process.env.MEMORY_STORAGE_MAX_BYTES
    const missing = await loadPlugins([{ source: memoryPlugin }], root()).catch((error) => error)
    assert.instanceOf(missing, PluginBootError)
    assert.match(missing.message, /^Plugin "memory-storage": environment variable MEMORY_STORAGE_MAX_BYTES: .*(missing|required)/i)

    process.env.MEMORY_STORAGE_MAX_BYTES = 'lots'
    const malformed = await loadPlugins([{ source: memoryPlugin }], root()).catch((error) => error)
    assert.instanceOf(malformed, PluginBootError)
    assert.match(malformed.message, /^Plugin "memory-storage": environment variable MEMORY_STORAGE_MAX_BYTES: .*must be a number/i)

    process.env.MEMORY_STORAGE_MAX_BYTES = '1000000'
    let seen: Record<string, unknown> = {}
    const [loaded] = await loadPlugins([{ source: memoryPlugin, options: (values) => ((seen = values), {}) }], root())
    assert.deepEqual(loaded.env, { MEMORY_STORAGE_MAX_BYTES: 1_000_000 })
    assert.deepEqual(seen, loaded.env, 'config/plugins.ts may build options from the validated values')
  })

  test('at boot: a bad plugin variable, or a STORAGE_BACKEND no plugin registered, stops the app with the reason', async ({ assert }) => {
    const badEnv = await bootRefusal({ PLUGINS_EXTRA: memoryPlugin, MEMORY_STORAGE_MAX_BYTES: 'lots' })
    assert.isNotNull(badEnv, 'the server must not start')
    assert.include(badEnv!, 'Plugin "memory-storage": environment variable MEMORY_STORAGE_MAX_BYTES: "MEMORY_STORAGE_MAX_BYTES" env variable must be a number')

    const unknownBackend = await bootRefusal({ STORAGE_BACKEND: 'memory' })
    assert.isNotNull(unknownBackend, 'the server must not start')
    assert.include(unknownBackend!, 'STORAGE_BACKEND="memory" names no registered storage backend; the enabled plugins register "local"')

    const unknownWatermarker = await bootRefusal({ WATERMARK_FORENSIC: 'nope' })
    assert.include(unknownWatermarker ?? '', 'WATERMARK_FORENSIC="nope" names no registered watermarker')

    // With its plugin enabled, the same backend id boots.
    assert.isNull(await bootRefusal({ PLUGINS_EXTRA: memoryPlugin, MEMORY_STORAGE_MAX_BYTES: '100000000', STORAGE_BACKEND: 'memory' }))
  }).timeout(180_000)
})

test.group('A plugin storage backend selected by STORAGE_BACKEND', (group) => {
  group.setup(async () => {
    process.env.MEMORY_STORAGE_MAX_BYTES = '100000000'
    if (!plugins.storage.has('memory')) {
      const [loaded] = await loadPlugins([{ source: memoryPlugin }], root())
      await loaded.plugin.register({ env: loaded.env, storage: { register: (backend: any) => plugins.storage.register(backend, 'memory-storage') } } as any)
    }
    const previous = app.config.get('storage.backend')
    app.config.set('storage.backend', 'memory')
    return () => app.config.set('storage.backend', previous)
  })
  group.each.setup(() => resetState())

  test('an upload is stored in it, through the core as with local or s3', async ({ assert }) => {
    const creator = await creatorClient()
    const result = await tusUpload(creator, await media.landscape(), { title: 'In memory' })
    assert.isTrue(result.ok, result.body)
    const video = await Video.findOrFail(result.videoId)
    assert.deepEqual(await storedKeys(video.storagePrefix), [video.sourceKey])
    const backend = plugins.storage.getOrFail('memory') as any
    assert.equal(backend.objects.get(video.sourceKey).length, Number(video.sourceSize))
  }).timeout(60_000)
})

test.group('Payment providers without webhooks', () => {
  test('a provider with no handleWebhook (bank transfers) gets no webhook route; one with it (Stripe) does', async ({ assert }) => {
    assert.isTrue(plugins.payments.has('bank-transfer'), '.env.test enables the bank-transfer example')
    assert.isUndefined(plugins.payments.getOrFail('bank-transfer').handleWebhook)
    const post = (id: string) => fetch(new URL(`/webhooks/${id}`, env.get('APP_URL')), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    assert.equal((await post('bank-transfer')).status, 404)
    assert.equal((await post('stripe')).status, 400, 'an unsigned request to a provider that takes webhooks is refused, not unknown')
  })
})
