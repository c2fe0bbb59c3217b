import { test } from '@japa/runner'
import logger from '@adonisjs/core/services/logger'
import plugins from '#services/plugins'
import { HookBus } from '#hooks/hook_bus'
import { FILTER_HOOK_NAMES } from '#hooks/hook_names'

test.group('Hooks a plugin declares', () => {
  test("x402's crypto:rate is declared by x402, not the kit; any plugin may then filter it", async ({ assert }) => {
    assert.notInclude(FILTER_HOOK_NAMES as string[], 'crypto:rate')
    assert.equal(plugins.hooks.declared.filter.get('crypto:rate')?.owner, 'x402')
    const bus = new HookBus(logger)
    bus.declare('filter', 'crypto:rate', 'a rate', 'x402')
    bus.addFilter('crypto:rate', (value: string | null) => value ?? '2', 'rates')
    assert.equal(await bus.applyFilters('crypto:rate', null as string | null, {}), '2')
  })

  test('an undeclared name, a core name or a second owner is refused with the reason', ({ assert }) => {
    const bus = new HookBus(logger)
    assert.throws(() => bus.addFilter('crypto:rate', (value: unknown) => value), /Unknown filter hook "crypto:rate"/)
    assert.throws(() => bus.declare('filter', 'video:price', 'mine', 'thief'), /is the core's/)
    assert.throws(() => bus.declare('action', 'NotAHook', 'bad', 'someone'), /must be named "<topic>:<event>"/)
    bus.declare('action', 'bank:statement_imported', 'a statement was read', 'bank-transfer')
    assert.throws(() => bus.declare('action', 'bank:statement_imported', 'again', 'other'), /already declared by plugin "bank-transfer"/)
  })

  test('hooks the core declared but never fired are gone (player:config)', ({ assert }) => {
    assert.notInclude(FILTER_HOOK_NAMES as string[], 'player:config')
  })
})
