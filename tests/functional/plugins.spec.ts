import { test } from '@japa/runner'
import vine from '@vinejs/vine'
import app from '@adonisjs/core/services/app'
import plugins from '#services/plugins'
import { resetState } from '#tests/helpers/state'
import { WebClient } from '#tests/helpers/web_client'
import { runAce } from '#tests/helpers/processes'

/*
| The fixtures in tests/fixtures/plugins are loaded through PLUGINS_EXTRA
| (.env.test): "hello" is a plain-JavaScript package with its own
| package.json, "broken" throws from every hook it registers.
*/
test.group('Plugin kernel', (group) => {
  group.each.setup(() => resetState())

  test('lists the loaded plugins with their versions', ({ assert }) => {
    assert.deepInclude(
      plugins.plugins.map(({ name, version }) => ({ name, version })),
      { name: 'hello', version: '1.2.3' }
    )
  })

  test('a plugin package adds a route under /plugins/<name>', async ({ assert }) => {
    const response = await new WebClient().get('/plugins/hello/greeting')
    assert.equal(response.status, 200)
    assert.equal(response.text, 'Hello!')
  })

  test('a plugin route can require a logged-in user', async ({ assert }) => {
    const client = new WebClient()
    assert.equal((await client.get('/plugins/hello/members-only')).location, '/login')
    await client.register('member', 'member@example.com')
    assert.equal((await client.get('/plugins/hello/members-only')).text, 'member member')
  })

  test('its action hook fires on user:registered, though another plugin\'s hook throws', async ({ assert }) => {
    const client = new WebClient()
    await client.register('hooked', 'hooked@example.com')
    const response = await client.get('/plugins/hello/registered')
    assert.include(JSON.parse(response.text).registered, 'hooked')
  })

  test('a filter hook changes what the page shows; a throwing filter is skipped', async ({ assert }) => {
    const home = await new WebClient().get('/')
    assert.equal(home.status, 200)
    assert.include(home.text, '<a href="/plugins/hello/greeting">Hello plugin</a>')
  })

  test('webhooks are mounted under /webhooks/<name> without CSRF', async ({ assert }) => {
    const response = await new WebClient().request('POST', '/webhooks/hello', JSON.stringify({ event: 'ping' }), {
      'content-type': 'application/json',
      'accept': 'application/json',
    })
    assert.equal(response.status, 200)
    assert.deepEqual(JSON.parse(response.text), { received: 'ping' })
  })

  test('typed settings are validated on write and change behaviour', async ({ assert }) => {
    const settings = plugins.settings.get('hello')!
    const error = await settings.set({ greeting: '' }).catch((e: any) => e)
    assert.equal(error.code, 'E_VALIDATION_ERROR')
    assert.equal((await new WebClient().get('/plugins/hello/greeting')).text, 'Hello!')

    await settings.set({ greeting: 'Howdy' })
    assert.equal((await new WebClient().get('/plugins/hello/greeting')).text, 'Howdy!')
    assert.deepEqual(await settings.get(), { greeting: 'Howdy' })
  })

  test('settings that no longer pass the schema fall back to defaults', async ({ assert }) => {
    const { PluginSettings } = await import('#hooks/plugin_settings')
    const strict = new PluginSettings('hello', vine.object({ greeting: vine.string().maxLength(3) }), { greeting: 'Hi' })
    await plugins.settings.get('hello')!.set({ greeting: 'Much too long' })
    assert.deepEqual(await strict.get(), { greeting: 'Hi' })
  })

  test('a plugin adds an ace command', async ({ assert }) => {
    const result = await runAce(['hello:greet'])
    assert.equal(result.code, 0, result.output)
    assert.include(result.output, 'hello from a plugin command')
    const list = await runAce(['list'])
    assert.include(list.output, 'hello:greet')
  }).timeout(60_000)

  test('a bad plugin option stops the boot with a clear message', async ({ assert }) => {
    const fixture = app.makePath('tests/fixtures/plugins/needs-options')
    const result = await runAce(['list'], { PLUGINS_EXTRA: fixture })
    assert.notEqual(result.code, 0)
    assert.include(result.output, 'Plugin "needs-options": option "apiKey"')
  }).timeout(60_000)

  test('a package that exports no plugin, or one whose name is taken, stops the boot with a clear message', async ({ assert }) => {
    const notAPlugin = await runAce(['list'], { PLUGINS_EXTRA: './tests/fixtures/plugins/not-a-plugin' })
    assert.notEqual(notAPlugin.code, 0)
    assert.include(notAPlugin.output, 'Plugin source "./tests/fixtures/plugins/not-a-plugin" does not export a plugin: its default export must be made with definePlugin()')
    const hello = './tests/fixtures/plugins/hello-plugin'
    const duplicate = await runAce(['list'], { PLUGINS_EXTRA: `${hello},${hello}` })
    assert.notEqual(duplicate.code, 0)
    assert.include(duplicate.output, `Two plugins are named "hello": "${hello}" and "${hello}"`)
  }).timeout(90_000)
})
