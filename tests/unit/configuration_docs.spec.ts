import { test } from '@japa/runner'
import { readFile, readdir } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'

const variablesIn = (text: string, pattern: RegExp) => new Set([...text.matchAll(pattern)].map((m) => m[1]))

test.group('Configuration documentation', () => {
  test('.env.example, .env.test, start/env.ts with the plugins\' own variables, and the README table list the same variables', async ({ assert }) => {
    const example = variablesIn(await readFile(app.makePath('.env.example'), 'utf8'), /^([A-Z][A-Z0-9_]*)=/gm)
    const testEnv = variablesIn(await readFile(app.makePath('.env.test'), 'utf8'), /^([A-Z][A-Z0-9_]*)=/gm)
    const validated = variablesIn(await readFile(app.makePath('start/env.ts'), 'utf8'), /^\s+([A-Z][A-Z0-9_]*): Env\.schema/gm)
    const readme = variablesIn(await readFile(app.makePath('README.md'), 'utf8'), /^\| `([A-Z][A-Z0-9_]*)` \|/gm)

    validated.add('TZ')
    // Plugins declare and validate their own variables (definePlugin({ env })), e.g. STRIPE_* and X402_*.
    for (const folder of await readdir(app.makePath('plugins'), { withFileTypes: true })) {
      if (!folder.isDirectory()) continue
      const { default: plugin } = await import(app.makeURL(`plugins/${folder.name}/index.js`).href)
      for (const name of Object.keys(plugin.env ?? {})) {
        assert.isFalse(validated.has(name), `${name} is validated both by start/env.ts and by plugins/${folder.name}`)
        validated.add(name)
      }
    }
    assert.sameMembers([...example], [...validated], '.env.example vs start/env.ts')
    assert.sameMembers([...readme], [...example], 'README table vs .env.example')
    assert.sameMembers([...testEnv], [...example], '.env.test vs .env.example')
  })
})
