/**
 * A typed registry of providers (payments, storage, watermarks) keyed by id.
 * Registering the same id twice is a boot error naming both owners.
 */
export class ProviderRegistry<T extends { id: string }> {
  #items = new Map<string, { owner: string; item: T }>()

  constructor(public readonly kind: string) {}

  register(item: T, owner = 'core') {
    if (!item || typeof item.id !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(item.id)) {
      throw new Error(`${owner}: a ${this.kind} needs an id of lowercase letters, digits, "-" or "_"`)
    }
    const existing = this.#items.get(item.id)
    if (existing) {
      throw new Error(`${owner}: ${this.kind} "${item.id}" is already registered by "${existing.owner}"`)
    }
    this.#items.set(item.id, { owner, item })
  }

  get(id: string): T | undefined {
    return this.#items.get(id)?.item
  }

  getOrFail(id: string): T {
    const item = this.get(id)
    if (!item) throw new Error(`No ${this.kind} "${id}" is registered`)
    return item
  }

  has(id: string) {
    return this.#items.has(id)
  }

  all(): T[] {
    return [...this.#items.values()].map((entry) => entry.item)
  }

  ownerOf(id: string) {
    return this.#items.get(id)?.owner
  }
}
