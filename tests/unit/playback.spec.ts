import { test } from '@japa/runner'
import { UrlSigner } from '#services/playback/url_signer'
import { parsePlayPath, rewritePlaylist } from '#services/playback/playlist'
import { parseRange } from '#services/media/stored_object'
import { TextWatermarker, safeText, slotPosition, type WatermarkSize } from '../../plugins/watermark-text/text_watermarker.js'

const SESSION = '5f0e8a4e-8d3c-4c7e-9a55-2d7f7c0d9b11'

test.group('Signed playback URLs', () => {
  const signer = new UrlSigner(Buffer.from('a key for tests only'))

  test('a URL is valid for its session, path and lifetime only', ({ assert }) => {
    const now = 1_800_000_000_000
    const url = new URL(signer.url(SESSION, '720p/seg_00001.m4s', 300, now), 'http://x')
    const exp = url.searchParams.get('exp')!
    const sig = url.searchParams.get('sig')!
    assert.equal(url.pathname, `/play/${SESSION}/720p/seg_00001.m4s`)
    assert.equal(signer.check(SESSION, '720p/seg_00001.m4s', exp, sig, now), 'valid')
    assert.equal(signer.check(SESSION, '720p/seg_00002.m4s', exp, sig, now), 'invalid')
    assert.equal(signer.check('6f0e8a4e-8d3c-4c7e-9a55-2d7f7c0d9b11', '720p/seg_00001.m4s', exp, sig, now), 'invalid')
    assert.equal(signer.check(SESSION, '720p/seg_00001.m4s', String(Number(exp) + 1), sig, now), 'invalid')
    assert.equal(signer.check(SESSION, '720p/seg_00001.m4s', exp, sig, now + 301_000), 'expired')
    assert.equal(signer.check(SESSION, '720p/seg_00001.m4s', exp, sig.slice(0, -1), now), 'invalid')
    assert.equal(signer.check(SESSION, '720p/seg_00001.m4s', undefined, sig, now), 'invalid')
    assert.equal(signer.check(SESSION, '720p/seg_00001.m4s', ['1', '2'], sig, now), 'invalid')
    // Another key never validates.
    assert.equal(new UrlSigner(Buffer.from('another key')).check(SESSION, '720p/seg_00001.m4s', exp, sig, now), 'invalid')
  })
})

test.group('Playlist rewriting', () => {
  const master = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=426x240,CODECS="avc1.64001e,mp4a.40.2"',
    '240p/index.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"',
    '720p/index.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080,CODECS="avc1.640028,mp4a.40.2"',
    '1080p/index.m3u8',
  ].join('\n')

  test('variants are rewritten or dropped, with their attributes at hand', ({ assert }) => {
    const seen: Array<{ path: string; codecs: string }> = []
    const out = rewritePlaylist(master, 'master.m3u8', (uri) => {
      seen.push({ path: uri.path, codecs: uri.attributes.CODECS })
      return uri.path === '1080p/index.m3u8' ? null : `/signed/${uri.path}`
    })
    assert.deepEqual(seen.map((s) => s.path), ['240p/index.m3u8', '720p/index.m3u8', '1080p/index.m3u8'])
    assert.equal(seen[1].codecs, 'avc1.64001f,mp4a.40.2')
    assert.include(out, '/signed/240p/index.m3u8')
    assert.notInclude(out, '1080p')
    assert.notInclude(out, 'BANDWIDTH=6000000')
  })

  test('init segments and segments resolve against the variant folder', ({ assert }) => {
    const variant = '#EXTM3U\n#EXT-X-MAP:URI="init_1.mp4"\n#EXTINF:4.000000,\nseg_00000.m4s\n#EXTINF:2.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n'
    const out = rewritePlaylist(variant, '720p/index.m3u8', (uri) => (uri.kind === 'map' ? null : `/s/${uri.kind}/${uri.path}`))
    assert.equal(out, '#EXTM3U\n#EXTINF:4.000000,\n/s/segment/720p/seg_00000.m4s\n#EXTINF:2.0,\n/s/segment/720p/seg_00001.m4s\n#EXT-X-ENDLIST\n')
  })

  test('a URI that is not a plain relative path is refused', ({ assert }) => {
    for (const uri of ['../secret.m4s', '/etc/passwd', 'http://evil/x.m4s', 'a//b.m4s']) {
      assert.throws(() => rewritePlaylist(`#EXTM3U\n#EXTINF:4,\n${uri}\n`, '720p/index.m3u8', (u) => u.path), /not a plain relative path/)
    }
  })

  test('only the paths a session serves parse', ({ assert }) => {
    assert.deepEqual(parsePlayPath('master.m3u8'), { kind: 'master' })
    assert.deepEqual(parsePlayPath('720p/index.m3u8'), { kind: 'variant', rendition: '720p' })
    assert.deepEqual(parsePlayPath('720p/init_1.mp4'), { kind: 'init', rendition: '720p', file: 'init_1.mp4' })
    assert.deepEqual(parsePlayPath('720p/seg_00012.m4s'), { kind: 'segment', rendition: '720p', index: 12 })
    assert.deepEqual(parsePlayPath('720p/wm_00012.ts'), { kind: 'watermarked', rendition: '720p', index: 12 })
    assert.deepEqual(parsePlayPath('thumbnails.vtt'), { kind: 'thumbnails' })
    assert.deepEqual(parsePlayPath('thumbnails.jpg'), { kind: 'sprite' })
    assert.deepEqual(parsePlayPath('captions/pt-BR.vtt'), { kind: 'captions', language: 'pt-BR' })
    for (const bad of ['../master.m3u8', '%2e%2e/master.m3u8', '/master.m3u8', '720p\\index.m3u8', '720p/../source/master.mp4',
      '720p/seg_1.m4s', '720p/seg_00001.m4s%00', 'source/master.mp4', '720p/index.m3u8/', '',
      'sprite.jpg', 'sprite.vtt', 'captions/../poster.jpg', 'captions/en_US.vtt', 'captions/en.srt', 'captions/e.vtt']) {
      assert.isNull(parsePlayPath(bad), bad)
    }
  })
})

test.group('HTTP ranges', () => {
  test('single ranges, suffixes and open ends', ({ assert }) => {
    assert.isNull(parseRange(undefined, 1000))
    assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 })
    assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 })
    assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 })
    assert.deepEqual(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 })
    assert.deepEqual(parseRange('bytes=-5000', 1000), { start: 0, end: 999 })
  })

  test('malformed, reversed, multiple or out-of-bounds ranges are not satisfiable', ({ assert }) => {
    for (const header of ['bytes=abc', 'bytes=5-2', 'bytes=1000-', 'bytes=-0', 'bytes=-', 'bytes=0-1,3-4', 'items=0-1', '']) {
      assert.equal(parseRange(header, 1000), 'unsatisfiable', header)
    }
  })
})

test.group('Text watermark', () => {
  const seed = Buffer.from('session seed')

  test('positions follow the session seed and the time slot', ({ assert }) => {
    assert.deepEqual(slotPosition(seed, 3), slotPosition(seed, 3))
    assert.notDeepEqual(slotPosition(seed, 3), slotPosition(seed, 4))
    assert.notDeepEqual(slotPosition(seed, 3), slotPosition(Buffer.from('other session'), 3))
    for (let slot = 0; slot < 50; slot++) {
      const { x, y } = slotPosition(seed, slot)
      assert.isTrue(x >= 0 && x < 1 && y >= 0 && y < 1)
    }
  })

  test('the filter switches position at slot boundaries and scales with the height', async ({ assert }) => {
    const style = { fontFamily: 'Sans', opacity: 0.5, size: 'medium' as WatermarkSize }
    const marker = new TextWatermarker(() => style)
    const input = { session: { sessionId: SESSION, userId: 1, username: 'ann', text: '@ann · ABC123', seed }, durationSeconds: 4, width: 1280, height: 720, intervalSeconds: 5 }
    const filter = await marker.buildFilter({ ...input, startSeconds: 8 })
    assert.match(filter, /^drawtext=font=Sans:expansion=none:text=@ann\\ ·\\ ABC123:fontsize=40:/)
    // 8–12 s crosses the boundary at 10 s: two positions.
    assert.include(filter, 'if(lt(t\\,10)\\,')
    assert.include(filter, slotPosition(seed, 1).x.toFixed(4))
    assert.include(filter, slotPosition(seed, 2).x.toFixed(4))
    // Inside one slot: one position, no switch.
    assert.notInclude(await marker.buildFilter({ ...input, startSeconds: 0, durationSeconds: 4 }), 'if(')
    assert.include(await marker.buildFilter({ ...input, height: 240, startSeconds: 0 }), 'fontsize=13')
    // The style is read for every segment: a settings change shows on the next one.
    style.size = 'large'
    style.opacity = 0.8
    const larger = await marker.buildFilter({ ...input, startSeconds: 0 })
    assert.include(larger, 'fontsize=60')
    assert.include(larger, 'fontcolor=white@0.80')
  })

  test('text that could change the filter graph is dropped', ({ assert }) => {
    assert.equal(safeText("@ann'; drawtext=text=x:%{pts}\\,"), '@ann drawtexttextxpts')
    assert.equal(safeText(':::'), 'Matinee')
    assert.equal(safeText('@zoë · 名前'), '@zoë · 名前')
  })
})
