import { test } from '@japa/runner'
import { fileURLToPath } from 'node:url'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import { Edge } from 'edge.js'
import { PluginKernel } from '#hooks/plugin_kernel'

/** A kernel with its own template engine, as the app wires it (plugin views mounted under the plugin's name). */
async function bootWithViews(source: string) {
  const edge = Edge.create()
  const kernel = new PluginKernel({ logger, appRoot: fileURLToPath(app.appRoot), mountViews: (disk, directory) => edge.mount(disk, directory) })
  await kernel.boot([{ source }])
  return { kernel, edge }
}

const buyInput = {
  action: '/videos/v1/checkout',
  hiddenFields: [
    { name: '_csrf', value: 'token"><script>alert(1)</script>' },
    { name: 'provider', value: 'own-view' },
  ],
  priceText: '$4.99',
  videoTitle: '<b>Harbour</b> & lights',
}

test.group('Plugin views (the kit renders plugins through the core, escaped)', () => {
  test('a provider’s buy button is a view of its plugin, rendered with every value escaped', async ({ assert }) => {
    const { kernel, edge } = await bootWithViews('./tests/fixtures/plugins/view-plugin')
    assert.sameMembers([...kernel.views.get('view-plugin')!], ['view-plugin::buy_button', 'view-plugin::admin/page'])
    const button = kernel.buyButtonView(kernel.payments.getOrFail('own-view'), buyInput)!
    assert.equal(button.view, 'view-plugin::buy_button')
    const html = await edge.render(button.view, button.data)
    assert.include(html, 'value="token&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"')
    assert.include(html, 'Pay $4.99 for &lt;b&gt;Harbour&lt;/b&gt; &amp; lights')
    assert.notInclude(html, '<script>')
  })

  test('a provider naming a view its plugin did not mount (the core’s layout) is refused', async ({ assert }) => {
    const { kernel } = await bootWithViews('./tests/fixtures/plugins/view-plugin')
    assert.throws(
      () => kernel.buyButtonView(kernel.payments.getOrFail('core-view'), buyInput),
      /core-view\.renderBuyButton returned the view "components\/layout", which is not one the plugin mounted/
    )
  })

  test('a plugin view printing raw HTML ({{{ }}}) stops the boot, naming the file', async ({ assert }) => {
    const error = await bootWithViews('./tests/fixtures/plugins/raw-view-plugin').catch((e) => e)
    assert.instanceOf(error, Error)
    assert.match(error.message, /raw-view: banner\.edge prints raw HTML with \{\{\{ \}\}\}/)
  })

  test('no core template or first-party plugin view prints raw HTML, apart from components’ slots', async ({ assert }) => {
    const { readdir, readFile } = await import('node:fs/promises')
    const roots = ['resources/views', 'plugins', 'examples', 'tests/fixtures/plugins/view-plugin']
    const offenders: string[] = []
    for (const root of roots) {
      for (const entry of await readdir(app.makePath(root), { recursive: true })) {
        if (!String(entry).endsWith('.edge') || String(entry).includes('node_modules')) continue
        const source = await readFile(app.makePath(root, String(entry)), 'utf8')
        const raw = source.match(/\{\{\{[^}]*\}\}\}/g) ?? []
        // A slot's output is Edge's own rendering, escaped where it was written (the button component trims it).
        const slotOutput = /^\{\{\{\s*(await \$slots\.\w+\(\)|\(await \$slots\.\w+\(\)\)\.trim\(\))\s*\}\}\}$/
        for (const use of raw) if (!slotOutput.test(use)) offenders.push(`${root}/${entry}: ${use}`)
      }
    }
    assert.deepEqual(offenders, [])
  })

  test('html.attrs escapes its values (edge 6.5 does not), so old input or plugin data cannot close the tag', async ({ assert }) => {
    const { default: edge } = await import('edge.js')
    await import('#start/view')
    const html = await edge.renderRaw(`<input {{ html.attrs({ id: 'f', value, required: true, class: ['a', 'b'], hint: undefined }) }}>`, { value: '"><script>alert(1)</script>' })
    assert.equal(html, '<input id="f" value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" required class="a b">')
  })
})
