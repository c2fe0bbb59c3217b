import { test } from '@japa/runner'
import logger from '@adonisjs/core/services/logger'
import { HookBus } from '#hooks/hook_bus'
import { ProviderRegistry } from '#hooks/registry'

function recordingLogger() {
  const errors: Array<{ bindings: any; message: string }> = []
  const fake = Object.create(logger)
  fake.error = (bindings: any, message: string) => errors.push({ bindings, message })
  return { fake, errors }
}

test.group('Hook bus', () => {
  test('a filter changes the value, in priority order', async ({ assert }) => {
    const bus = new HookBus(logger)
    bus.addFilter('watermark:text', (text) => `${text}!`, 'late', 20)
    bus.addFilter('watermark:text', (text, ctx) => `@${ctx.username} ${text}`, 'early', 5)
    const text = await bus.applyFilters('watermark:text', 'abc', { sessionId: 's', userId: 1, username: 'ann' })
    assert.equal(text, '@ann abc!')
  })

  test('a throwing filter is logged with its plugin and the value passes through', async ({ assert }) => {
    const { fake, errors } = recordingLogger()
    const bus = new HookBus(fake)
    bus.addFilter('nav:items', () => {
      throw new Error('boom')
    }, 'broken')
    bus.addFilter('nav:items', (items) => [...items, { label: 'ok', href: '/ok' }], 'good', 20)
    const items = await bus.applyFilters('nav:items', [], {})
    assert.deepEqual(items, [{ label: 'ok', href: '/ok' }])
    assert.lengthOf(errors, 1)
    assert.equal(errors[0].bindings.plugin, 'broken')
    assert.include(errors[0].message, 'nav:items')
  })

  test('a throwing action listener does not stop the others', async ({ assert }) => {
    const { fake, errors } = recordingLogger()
    const bus = new HookBus(fake)
    const seen: string[] = []
    bus.onAction('user:registered', () => {
      throw new Error('boom')
    }, 'broken')
    bus.onAction('user:registered', ({ user }) => {
      seen.push(user.username)
    }, 'good')
    await bus.doAction('user:registered', { user: { id: 1, username: 'ann', email: 'a@b.c', role: 'viewer' } })
    assert.deepEqual(seen, ['ann'])
    assert.equal(errors[0].bindings.plugin, 'broken')
  })

  test('an unknown hook name is refused at registration', ({ assert }) => {
    const bus = new HookBus(logger)
    assert.throws(() => bus.onAction('user:registerd' as any, () => {}), /Unknown action hook "user:registerd"/)
    assert.throws(() => bus.addFilter('video:prize' as any, (v: any) => v), /Unknown filter hook "video:prize"/)
  })
})

test.group('Provider registry', () => {
  test('ids are unique and the error names both owners', ({ assert }) => {
    const registry = new ProviderRegistry<{ id: string }>('storage backend')
    registry.register({ id: 'local' }, 'storage-local')
    assert.throws(() => registry.register({ id: 'local' }, 'other'), /other: storage backend "local" is already registered by "storage-local"/)
    assert.throws(() => registry.register({ id: 'Bad Id' }, 'x'), /needs an id/)
    assert.equal(registry.getOrFail('local').id, 'local')
    assert.throws(() => registry.getOrFail('s3'), /No storage backend "s3"/)
  })
})
