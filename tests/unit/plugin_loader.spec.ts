import { test } from '@japa/runner'
import { fileURLToPath } from 'node:url'
import app from '@adonisjs/core/services/app'
import { loadPlugins, PluginBootError } from '#hooks/plugin_loader'

const root = () => fileURLToPath(app.appRoot)
const hello = './tests/fixtures/plugins/hello-plugin'

test.group('Plugin loader', () => {
  test('loads a plugin package from a folder through its package.json exports', async ({ assert }) => {
    const [loaded] = await loadPlugins([{ source: hello, options: { punctuation: '?' } }], root())
    assert.equal(loaded.plugin.name, 'hello')
    assert.equal(loaded.plugin.version, '1.2.3')
    assert.deepEqual(loaded.options, { punctuation: '?' })
  })

  test('a bad option stops the boot with a message naming plugin and option', async ({ assert }) => {
    const error = await loadPlugins([{ source: hello, options: { punctuation: '!!!!!' } }], root()).catch((e) => e)
    assert.instanceOf(error, PluginBootError)
    assert.match(error.message, /Plugin "hello": option "punctuation": .*3/)
  })

  test('a module that does not export a plugin is refused by name', async ({ assert }) => {
    const error = await loadPlugins([{ source: './tests/fixtures/plugins/not-a-plugin' }], root()).catch((e) => e)
    assert.instanceOf(error, PluginBootError)
    assert.include(error.message, '"./tests/fixtures/plugins/not-a-plugin" does not export a plugin')
  })

  test('two plugins with one name are refused', async ({ assert }) => {
    const error = await loadPlugins([{ source: hello }, { source: hello }], root()).catch((e) => e)
    assert.include(error.message, 'Two plugins are named "hello"')
  })

  test('a missing source or package is a clear error', async ({ assert }) => {
    const missingPath = await loadPlugins([{ source: './plugins/nope' }], root()).catch((e) => e)
    assert.include(missingPath.message, 'Plugin source "./plugins/nope" does not exist')
    const missingPackage = await loadPlugins([{ source: 'matinee-plugin-that-is-not-installed' }], root()).catch((e) => e)
    assert.include(missingPackage.message, 'Plugin source "matinee-plugin-that-is-not-installed" could not be loaded')
  })
})
