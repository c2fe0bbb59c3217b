/// <reference lib="dom" />
import { test } from '@japa/runner'
import { createServer, type Server } from 'node:http'
import { createReadStream } from 'node:fs'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import type { Browser } from 'playwright-core'
import mediaConfig from '#config/media'
import User from '#models/user'
import { hlsKeys } from '#services/media/storage_keys'
import { launchChromium } from '#tests/helpers/browser'
import { resetState } from '#tests/helpers/state'
import { readStored, readyVideo } from '#tests/helpers/videos'

/**
 * A playlist mixing variant A and variant B segments behind the rendition's
 * one init segment plays in Chromium with hls.js from start to end without
 * a media error: what a forensic session's sequence will be. Served by a
 * bare static server of the stored files (session serving is not built yet).
 */
test.group('Browser: a mixed A/B forensic sequence', (group) => {
  let browser: Browser
  let server: Server
  group.setup(async () => {
    await resetState()
    browser = await launchChromium()
    return () => browser.close()
  })
  group.each.teardown(() => void server?.close())

  test('hls.js plays A, B, unmarked segments in turn through to the end', async ({ assert }) => {
    const owner = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
    const preset = mediaConfig.x264Preset
    mediaConfig.x264Preset = 'veryfast'
    const video = await readyVideo(owner, { watermarkMode: 'forensic' }).finally(() => (mediaConfig.x264Preset = preset))
    const rendition = '360p'
    const playlist = await readStored(hlsKeys.file(video.hlsPrefix, `${rendition}/index.m3u8`))
    const sequence = ['a', 'b', null] as const
    const mixed = playlist.replace(/seg_(\d+)\.m4s/g, (_, n) => {
      const variant = sequence[Number(n) % 3]
      return `/files/${variant ? hlsKeys.variantSegment(video.hlsPrefix, rendition, variant, Number(n)) : hlsKeys.segment(video.hlsPrefix, rendition, Number(n))}`
    }).replace(/URI="([^"]+)"/, (_, file) => `URI="/files/${hlsKeys.init(video.hlsPrefix, rendition, file)}"`)
    assert.match(mixed, /\/ab\/a\/seg_00000\.m4s/)
    assert.match(mixed, /\/ab\/b\/seg_00001\.m4s/)

    const page = `<!doctype html><video muted playsinline></video><script src="/hls.js"></script><script>
      // Stalls of a loaded machine are not media errors; a decoder or a buffer refusing a segment is.
      window.refused = []; window.ended = false
      const video = document.querySelector('video')
      video.addEventListener('ended', () => { window.ended = true })
      const hls = new Hls()
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (data.type === 'mediaError' || data.fatal) window.refused.push(data.type + ':' + data.details + (data.fatal ? ':fatal' : ''))
      })
      hls.on(Hls.Events.MANIFEST_PARSED, () => { video.playbackRate = 4; video.play() })
      hls.loadSource('/mixed.m3u8'); hls.attachMedia(video)
    </script>`
    server = createServer((request, response) => {
      const url = request.url ?? '/'
      if (url === '/') return response.writeHead(200, { 'content-type': 'text/html' }).end(page)
      if (url === '/mixed.m3u8') return response.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(mixed)
      const file =
        url === '/hls.js' ? app.makePath('node_modules/hls.js/dist/hls.min.js')
        : url.startsWith('/files/videos/') && !url.includes('..') ? app.makePath(env.get('STORAGE_LOCAL_ROOT'), url.slice('/files/'.length))
        : null
      if (!file) return response.writeHead(404).end()
      createReadStream(file).on('error', () => response.writeHead(404).end()).pipe(response)
    }).listen(0, '127.0.0.1')
    await once(server, 'listening')

    const tab = await browser.newPage()
    await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    await tab.waitForFunction(() => (window as any).ended || (window as any).refused.length > 0, null, { timeout: 60_000 })
    const result = await tab.evaluate(() => {
      const element = document.querySelector('video')!
      return { refused: (window as any).refused as string[], currentTime: element.currentTime, duration: element.duration, frames: element.getVideoPlaybackQuality().totalVideoFrames }
    })
    assert.deepEqual(result.refused, [])
    assert.closeTo(result.currentTime, video.durationSeconds!, 0.5)
    assert.isAbove(result.frames, 0)
  })
})
