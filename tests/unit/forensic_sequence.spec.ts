import { test } from '@japa/runner'
import { forensicKey } from '#services/media/forensic_variants'
import { expectedSigns, variantFor } from '#services/watermark/forensic_sequence'
import { candidateOffsets, minimumSegments, nullTail, twoGroupCentre } from '#services/watermark/forensic_tracer'

test.group('Forensic session sequences', () => {
  test('a session always gets the same variant of a segment; sessions and videos get unrelated sequences of fair bits', ({ assert }) => {
    // Fixed ids: the checks are then exact facts, not chances.
    const video = '5b0e6a43-9d5c-4f7e-8a51-1f2d3c4b5a60'
    const session = 'c9a8b7d6-1e2f-4a3b-9c4d-5e6f7a8b9c0d'
    const segments = Array.from({ length: 400 }, (_, i) => i)
    const sequence = segments.map((i) => variantFor(session, video, i))
    assert.deepEqual(segments.map((i) => variantFor(session, video, i)), sequence)
    assert.deepEqual(expectedSigns(session, video, segments), sequence.map((v) => (v === 'A' ? 1 : -1)))
    // Fair: 400 coin flips land 200 ± 60 (6 standard deviations) A.
    const count = (list: string[]) => list.filter((v) => v === 'A').length
    assert.closeTo(count(sequence), 200, 60)
    // Another session of the video, and the same session id under another video, agree on about half the segments.
    const agreement = (other: string[]) => other.filter((v, i) => v === sequence[i]).length
    assert.closeTo(agreement(segments.map((i) => variantFor('0f1e2d3c-4b5a-4968-8776-655443322110', video, i))), 200, 60)
    assert.closeTo(agreement(segments.map((i) => variantFor(session, '7d6c5b4a-3928-4716-a5f4-e3d2c1b0a998', i))), 200, 60)
    // The video's key decides it: the same key given explicitly gives the same sequence.
    assert.deepEqual(segments.map((i) => variantFor(session, video, i, forensicKey(video))), sequence)
  })

  test('the null tail is exact: it equals the brute-force chance that fair signs score at least as high', ({ assert }) => {
    const weights = [3, 0, 5, 1, 5, 2, 4]
    const tail = nullTail(weights)
    const sums: number[] = []
    for (let mask = 0; mask < 2 ** weights.length; mask++) {
      sums.push(weights.reduce((sum, w, i) => sum + (mask & (1 << i) ? w : -w), 0))
    }
    for (let score = -22; score <= 22; score++) {
      assert.closeTo(tail(score), sums.filter((s) => s >= score).length / sums.length, 1e-12, `score ${score}`)
    }
    // A perfect match of n equal weights: 2^-n, the best any n segments can do.
    assert.closeTo(nullTail(Array(30).fill(40))(1200), 2 ** -30, 1e-20)
    // Hence the fewest segments that can name one of 200 sessions within 1e-6: 2^-28 × 200 ≤ 1e-6.
    assert.equal(minimumSegments(200, 1e-6), 28)
    assert.isAbove(2 ** -27 * 200, 1e-6)
  })

  test('the common lean of the soft bits is the midpoint of their two groups, however unequal the groups', ({ assert }) => {
    const readings = [...Array(20).fill(-0.45), ...Array(10).fill(0.01)].map((v, i) => v + (i % 3) * 0.01)
    assert.closeTo(twoGroupCentre(readings), -0.22, 0.02)
    assert.equal(twoGroupCentre([0.3]), 0)
  })

  test('the candidate offsets are the separate peaks within the margin of the best, best first, capped; ties go to the earlier offset', ({ assert }) => {
    // A picture that repeats every 40 frames: equal peaks at 5 and 45, a weaker one at 85, a slope around each.
    const curve = Array.from({ length: 100 }, (_, offset) => 0.99 - 0.01 * Math.min(...[5, 45].map((p) => Math.abs(offset - p))))
    curve[85] = 0.9
    assert.deepEqual(candidateOffsets(curve, { margin: 0.02, limit: 8, separation: 10 }), [
      { offset: 5, correlation: 0.99 },
      { offset: 45, correlation: 0.99 },
    ])
    // A wider margin takes the weaker repeat too, but never a neighbour of a kept peak.
    assert.deepEqual(candidateOffsets(curve, { margin: 0.095, limit: 8, separation: 10 }).map(({ offset }) => offset), [5, 45, 85])
    // The cap keeps the best ones.
    assert.deepEqual(candidateOffsets(curve, { margin: 0.095, limit: 1, separation: 10 }).map(({ offset }) => offset), [5])
    // A picture that does not repeat: one candidate.
    assert.deepEqual(candidateOffsets([0.2, 0.5, 0.97, 0.6, 0.3]).map(({ offset }) => offset), [2])
    assert.deepEqual(candidateOffsets([]), [])
  })
})
