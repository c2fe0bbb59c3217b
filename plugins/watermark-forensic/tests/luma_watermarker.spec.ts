import { test } from '@japa/runner'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { bootPlugin } from '@matinee/plugin-kit/testing'
import type { ForensicWatermarker } from '@matinee/plugin-kit'
import { correlation } from '../luma_watermarker.js'

const exec = promisify(execFile)
const keyA = Buffer.alloc(32, 1)
const keyB = Buffer.alloc(32, 2)
const size = { width: 64, height: 36 }

async function luma() {
  const plugin = await bootPlugin(new URL('../', import.meta.url))
  return plugin.watermarks.getOrFail('luma') as ForensicWatermarker
}

/** Variant `variant`'s fragment applied by FFmpeg to one flat grey (128) frame: the offsets it adds. */
async function renderedOffsets(watermarker: ForensicWatermarker, key: Buffer, variant: 'A' | 'B') {
  const fragment = await watermarker.variantFilter({ videoId: 'v', key, rendition: '36p', ...size, variant, inLabel: 'in', outLabel: 'out' })
  const { stdout } = await exec(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', `color=c=0x808080:s=${size.width}x${size.height}:r=1:d=1,format=yuv420p`, '-filter_complex', `[0:v]null[in];${fragment};[out]format=gray[grey]`, '-map', '[grey]', '-frames:v', '1', '-f', 'rawvideo', '-'],
    { encoding: 'buffer' }
  )
  return Float32Array.from(stdout, (value) => value - 128)
}

test.group('watermark-forensic: the luma A/B mark', () => {
  test('registers a forensic watermarker; an amplitude outside 1 to 4 levels stops the boot', async ({ assert }) => {
    assert.equal((await luma()).kind, 'forensic')
    await assert.rejects(() => bootPlugin(new URL('../', import.meta.url), { amplitude: 8 }))
    await assert.rejects(() => bootPlugin(new URL('../', import.meta.url), { amplitude: 1.5 }))
  })

  test('the offsets FFmpeg adds are the pattern, rounded and clipped to ±2 levels; B adds the negative', async ({ assert }) => {
    const watermarker = await luma()
    const pattern = watermarker.pattern({ key: keyA, ...size })
    const a = await renderedOffsets(watermarker, keyA, 'A')
    const b = await renderedOffsets(watermarker, keyA, 'B')
    assert.equal(Math.max(...a.map(Math.abs)), 2)
    assert.deepEqual([...b], [...a.map((value) => -value || 0)])
    // Rounding at pixel centres can move a value by one level where the pattern sits on a half.
    const expected = pattern.map((value) => Math.max(-2, Math.min(2, Math.round(value))))
    assert.isAtMost(Math.max(...a.map((value, i) => Math.abs(value - expected[i]))), 1)
    assert.isAbove(correlation(a, pattern), 0.95)
  })

  test('the mark is keyed: same key, same fragment; another key, an unrelated pattern', async ({ assert }) => {
    const watermarker = await luma()
    const input = { videoId: 'v', key: keyA, rendition: '36p', ...size, variant: 'A' as const, inLabel: 'in', outLabel: 'out' }
    assert.equal(await watermarker.variantFilter(input), await watermarker.variantFilter({ ...input }))
    assert.notEqual(await watermarker.variantFilter(input), await watermarker.variantFilter({ ...input, key: keyB }))
    assert.isBelow(Math.abs(correlation(watermarker.pattern({ key: keyA, ...size }), watermarker.pattern({ key: keyB, ...size }))), 0.5)
  })

  test('score reads +1 for the pattern, -1 for its negative, whatever the brightness; a wrong size is an error', async ({ assert }) => {
    const watermarker = await luma()
    const pattern = watermarker.pattern({ key: keyA, ...size })
    assert.closeTo(watermarker.score({ key: keyA, ...size, difference: pattern.map((value) => value + 10) }), 1, 1e-6)
    assert.closeTo(watermarker.score({ key: keyA, ...size, difference: pattern.map((value) => -0.5 * value) }), -1, 1e-6)
    assert.equal(watermarker.score({ key: keyA, ...size, difference: new Float32Array(pattern.length) }), 0)
    assert.throws(() => watermarker.score({ key: keyA, ...size, difference: new Float32Array(10) }), /10 values/)
  })
})
