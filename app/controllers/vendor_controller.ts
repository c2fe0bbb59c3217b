import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { HttpContext } from '@adonisjs/core/http'

const require = createRequire(import.meta.url)

/**
 * Browser builds of the few libraries the pages use, served from
 * node_modules (no bundler, no CDN). Only the files listed here.
 */
const FILES: Record<string, () => string> = {
  'tus.js': () => require.resolve('tus-js-client/dist/tus.min.js'),
  'transmit.js': () => require.resolve('@adonisjs/transmit-client'),
  'hls.js': () => require.resolve('hls.js/dist/hls.min.js'),
  // Mux's player web components, all of them (menus included) in one classic
  // script. Its package exports dist/* to `import` only (require gets dist/cjs).
  'media-chrome.js': () => fileURLToPath(import.meta.resolve('media-chrome/dist/iife/all.js')),
}

export default class VendorController {
  async show({ params, response }: HttpContext) {
    const resolve = FILES[params.file]
    if (!resolve) return response.notFound('Not found')
    const path = resolve()
    const info = await stat(path)
    response.header('Content-Type', 'text/javascript; charset=utf-8')
    response.header('Content-Length', String(info.size))
    response.header('Cache-Control', 'public, max-age=86400')
    return response.stream(createReadStream(path))
  }
}
