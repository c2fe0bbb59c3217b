import type { Logger } from '@adonisjs/core/logger'
import type { ActionHooks, ActionName, FilterHooks, FilterName } from './hook_names.js'
import { ACTION_HOOK_NAMES, FILTER_HOOK_NAMES } from './hook_names.js'

const HOOK_NAME = /^[a-z][a-z0-9_-]*:[a-z][a-z0-9_:-]*$/

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
  #actions = new Map<string, Registered<ActionListener<any>>[]>()
  #filters = new Map<string, Registered<FilterFn<any>>[]>()

  constructor(private logger: Logger) {}

  /** Hooks plugins declared, by kind: name → { owner, doc }. */
  readonly declared = { action: new Map<string, { owner: string; doc: string }>(), filter: new Map<string, { owner: string; doc: string }>() }

  /**
   * A plugin's own hook (`definePlugin({ hooks })`): its name is then known
   * to the bus, for the plugin that fires it and any plugin that listens.
   */
  declare(kind: 'action' | 'filter', name: string, doc: string, owner: string) {
    const core: readonly string[] = kind === 'action' ? ACTION_HOOK_NAMES : FILTER_HOOK_NAMES
    if (!HOOK_NAME.test(name)) throw new Error(`${kind} hook "${name}" must be named "<topic>:<event>" in lowercase (e.g. "crypto:rate")`)
    if (core.includes(name)) throw new Error(`${kind} hook "${name}" is the core's`)
    const previous = this.declared[kind].get(name)
    if (previous && previous.owner !== owner) throw new Error(`${kind} hook "${name}" is already declared by plugin "${previous.owner}"`)
    this.declared[kind].set(name, { owner, doc })
  }

  onAction<N extends ActionName>(name: N, fn: ActionListener<N>, owner?: string): void
  onAction(name: string, fn: (payload: any) => unknown, owner?: string): void
  onAction(name: string, fn: ActionListener<any>, owner = 'core') {
    this.#assertKnown(name, 'action')
    const list = this.#actions.get(name) ?? []
    list.push({ owner, fn, priority: 0 })
    this.#actions.set(name, list)
  }

  /** Lower priority runs first (default 10). */
  addFilter<N extends FilterName>(name: N, fn: FilterFn<N>, owner?: string, priority?: number): void
  addFilter(name: string, fn: (value: any, context: any) => unknown, owner?: string, priority?: number): void
  addFilter(name: string, fn: FilterFn<any>, owner = 'core', priority = 10) {
    this.#assertKnown(name, 'filter')
    const list = this.#filters.get(name) ?? []
    list.push({ owner, fn, priority })
    list.sort((a, b) => a.priority - b.priority)
    this.#filters.set(name, list)
  }

  async doAction<N extends ActionName>(name: N, payload: ActionHooks[N]): Promise<void>
  async doAction(name: string, payload: unknown): Promise<void>
  async doAction(name: string, payload: any): Promise<void> {
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
  ): Promise<FilterHooks[N]['value']>
  /** A plugin-declared filter: typed by the plugin that declares it. */
  async applyFilters<T>(name: string, value: T, context: Record<string, unknown>): Promise<T>
  async applyFilters(name: string, value: any, context: any): Promise<any> {
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

  #assertKnown(name: string, kind: 'action' | 'filter') {
    const known = [...(kind === 'action' ? ACTION_HOOK_NAMES : FILTER_HOOK_NAMES), ...this.declared[kind].keys()]
    if (!known.includes(name)) {
      throw new Error(`Unknown ${kind} hook "${name}". Known ${kind} hooks: ${known.join(', ')}`)
    }
  }
}
