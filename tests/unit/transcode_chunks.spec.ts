import { test } from '@japa/runner'
import { outputFrames, planChunks } from '#services/media/chunks'

const settings = { chunkSeconds: 60, minDurationSeconds: 240, segmentSeconds: 4 }

test.group('Chunk planning (segment-parallel transcoding)', () => {
  test('a video shorter than the threshold, or with chunking off, is one piece', ({ assert }) => {
    assert.isNull(planChunks(239.9, 30, settings))
    assert.isNull(planChunks(3600, 30, { ...settings, chunkSeconds: 0 }))
    assert.isNull(planChunks(3600, 30, { ...settings, minDurationSeconds: 0 }))
    // Long enough, but not longer than one chunk.
    assert.isNull(planChunks(50, 30, { ...settings, minDurationSeconds: 10 }))
  })

  test('chunks are whole segments (GOPs) and cover every frame once', ({ assert }) => {
    const chunks = planChunks(1200, 30, settings)!
    assert.lengthOf(chunks, 20)
    assert.deepEqual(chunks[0], { startFrame: 0, frameCount: 1800 })
    assert.deepEqual(chunks[19], { startFrame: 34_200, frameCount: 1800 })

    // 9 s asked with 4 s segments: 8 s chunks (2 segments), a shorter last one.
    const odd = planChunks(41.5, 25, { chunkSeconds: 9, minDurationSeconds: 20, segmentSeconds: 4 })!
    assert.deepEqual(odd.map((c) => c.frameCount), [200, 200, 200, 200, 200, 38])
    for (let i = 1; i < odd.length; i++) assert.equal(odd[i].startFrame, odd[i - 1].startFrame + odd[i - 1].frameCount)
    assert.equal(odd.reduce((sum, c) => sum + c.frameCount, 0), outputFrames(41.5, 25))
    // NTSC: a GOP of 120 frames (4.004 s); chunks are multiples of it.
    for (const chunk of planChunks(600, 30000 / 1001, settings)!.slice(0, -1)) assert.equal(chunk.frameCount % 120, 0)
  })
})
