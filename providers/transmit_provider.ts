import TransmitProvider from '@adonisjs/transmit/transmit_provider'

/**
 * Transmit's provider, except that shutting down does not create Transmit.
 * The stock provider resolves it in `shutdown()` (and start/transmit.ts ran
 * in every environment), so every short ace command (db:create,
 * migration:run) opened a Redis subscription only to quit it at once; when
 * the quit overtook the SUBSCRIBE, ioredis crashed the process with
 * "Connection is closed" (about one run in three). Now only processes that
 * serve HTTP or broadcast (workers) create it.
 */
export default class LazyTransmitProvider extends TransmitProvider {
  #resolved = false

  register() {
    super.register()
    this.app.container.resolving('transmit', () => {
      this.#resolved = true
    })
  }

  async shutdown() {
    if (this.#resolved) await super.shutdown()
  }
}
