import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import { ACTION_HOOK_NAMES, FILTER_HOOK_NAMES } from '#hooks/hook_names'

test.group('docs/plugins.md', () => {
  test('lists exactly the hooks the bus accepts, so the list cannot go stale', async ({ assert }) => {
    const docs = await readFile(app.makePath('docs/plugins.md'), 'utf8')
    const documented = [...docs.matchAll(/^\| `([a-z_]+:[a-z_]+)` \|/gm)].map((match) => match[1])
    assert.sameMembers(documented, [...ACTION_HOOK_NAMES, ...FILTER_HOOK_NAMES])
  })
})
