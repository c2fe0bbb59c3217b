import type { Logger } from '@adonisjs/core/logger'
import type { ActionHooks, ActionName, FilterHooks, FilterName } from './hook_names.js'
import { ACTION_HOOK_NAMES, FILTER_HOOK_NAMES } from './hook_names.js'

export type ActionListener<N extends ActionName> = (payload: ActionHooks[N]) => void | Promise<void>
export type FilterFn<N extends FilterName> = (
  value: FilterHooks[N]['value'],
  context: FilterHooks[N]['context']
) => FilterHooks[N]['value'] | Promise<FilterHooks[N]['value']>

interface Registered<F> {
  owner: string
  fn: F
  priority: number
}

/**
 * Action and filter hooks. Every registration carries its owner (a plugin
 * name, or "core"), so a failure is logged against the plugin that caused it
 * and never reaches the request or job that fired the hook.
 */
export class HookBus {
  #actions = new Map<ActionName, Registered<ActionListener<any>>[]>()
  #filters = new Map<FilterName, Registered<FilterFn<any>>[]>()

  constructor(private logger: Logger) {}

  onAction<N extends ActionName>(name: N, fn: ActionListener<N>, owner = 'core') {
    this.#assertKnown(name, ACTION_HOOK_NAMES, 'action')
    const list = this.#actions.get(name) ?? []
    list.push({ owner, fn, priority: 0 })
    this.#actions.set(name, list)
  }

  /** Lower priority runs first (default 10). */
  addFilter<N extends FilterName>(name: N, fn: FilterFn<N>, owner = 'core', priority = 10) {
    this.#assertKnown(name, FILTER_HOOK_NAMES, 'filter')
    const list = this.#filters.get(name) ?? []
    list.push({ owner, fn, priority })
    list.sort((a, b) => a.priority - b.priority)
    this.#filters.set(name, list)
  }

  async doAction<N extends ActionName>(name: N, payload: ActionHooks[N]): Promise<void> {
    for (const listener of this.#actions.get(name) ?? []) {
      try {
        await listener.fn(payload)
      } catch (error) {
        this.logger.error({ err: error, plugin: listener.owner, hook: name }, `plugin "${listener.owner}" failed in action hook "${name}"`)
      }
    }
  }

  async applyFilters<N extends FilterName>(
    name: N,
    value: FilterHooks[N]['value'],
    context: FilterHooks[N]['context']
  ): Promise<FilterHooks[N]['value']> {
    let current = value
    for (const filter of this.#filters.get(name) ?? []) {
      try {
        current = await filter.fn(current, context)
      } catch (error) {
        this.logger.error({ err: error, plugin: filter.owner, hook: name }, `plugin "${filter.owner}" failed in filter hook "${name}"; value left unchanged`)
      }
    }
    return current
  }

  /** Who listens to what (admin console and docs checks). */
  listeners() {
    const describe = <F>(map: Map<string, Registered<F>[]>) =>
      Object.fromEntries([...map.entries()].map(([name, list]) => [name, list.map((entry) => entry.owner)]))
    return { actions: describe(this.#actions), filters: describe(this.#filters) }
  }

  #assertKnown(name: string, known: readonly string[], kind: string) {
    if (!known.includes(name)) {
      throw new Error(`Unknown ${kind} hook "${name}". Known ${kind} hooks: ${known.join(', ')}`)
    }
  }
}
