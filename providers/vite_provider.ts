import ViteProvider from '@adonisjs/vite/vite_provider'
import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** The files Vite builds from: when one is newer than the manifest, the test build is stale. */
const ASSET_SOURCES = ['resources/css', 'resources/js', 'vite.config.ts']

async function newestChange(path: string): Promise<number> {
  const info = await stat(path).catch(() => null)
  if (!info) return 0
  if (!info.isDirectory()) return info.mtimeMs
  const entries = await readdir(path)
  const times = await Promise.all(entries.map((entry) => newestChange(join(path, entry))))
  return Math.max(info.mtimeMs, ...times)
}

/**
 * @adonisjs/vite's provider, except that the test runner serves the built
 * assets (content-hashed files and the manifest, as production does) instead
 * of starting Vite's dev server: the dev server's page script opens an HMR
 * WebSocket that the Content-Security-Policy (`connect-src 'self'`) refuses,
 * and the browser tests fail on any violation. The assets are built once,
 * when a source is newer than the manifest (about a second).
 */
export default class AppViteProvider extends ViteProvider {
  #testing() {
    return this.app.getEnvironment() === 'test'
  }

  async start() {
    if (!this.#testing()) return super.start()
    const vite = await this.app.container.make('vite')
    const manifest = this.app.makePath('public/assets/.vite/manifest.json')
    const built = existsSync(manifest) ? (await stat(manifest)).mtimeMs : 0
    const sources = Math.max(...(await Promise.all(ASSET_SOURCES.map((path) => newestChange(this.app.makePath(path))))))
    if (sources > built) {
      const { build } = await import('vite')
      // Never empties the folder: test runs of other environments may be reading it.
      await build({ root: this.app.makePath(), logLevel: 'warn', build: { emptyOutDir: false } })
    }
    vite.hasManifestFile = true
  }

  async shutdown() {
    if (!this.#testing()) return super.shutdown()
  }
}
