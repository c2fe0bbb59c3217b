import { test } from '@japa/runner'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import app from '@adonisjs/core/services/app'
import mediaConfig from '#config/media'
import User from '#models/user'
import { TraceRefusedError, traceLeak } from '#services/watermark/forensic_tracer'
import { resetState } from '#tests/helpers/state'
import { media } from '#tests/helpers/media_fixtures'
import { readyVideo } from '#tests/helpers/videos'
import { exec, leak, servedStream, sessionsOf, source } from '#tests/helpers/forensic_leaks'
import AuditLog from '#models/audit_log'
import ForensicTrace from '../../commands/forensic_trace.js'

async function refusal(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    if (error instanceof TraceRefusedError) return error.message
    throw error
  }
  throw new Error('the trace was not refused')
}

test.group('Tracing a leaked clip', (group) => {
  let work: string
  // Short segments keep the test's video short: the bound needs ~25 read segments among 20 sessions.
  group.setup(() => {
    const { segmentSeconds } = mediaConfig
    const renditions = [...mediaConfig.forensic.renditions]
    mediaConfig.segmentSeconds = 2
    mediaConfig.forensic.renditions.splice(0, Infinity, '360p')
    return () => {
      mediaConfig.segmentSeconds = segmentSeconds
      mediaConfig.forensic.renditions.splice(0, Infinity, ...renditions)
    }
  })
  group.each.setup(async () => {
    await resetState()
    work = await mkdtemp(join(tmpdir(), 'matinee-trace-test-'))
    return () => rm(work, { recursive: true, force: true })
  })
  group.each.timeout(240_000)

  test('a re-encoded, rescaled clip starting mid-video names its session and no other; the unmarked rendition names nobody; another video refuses it', async ({ assert }) => {
    const owner = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
    const video = await readyVideo(owner, { watermarkMode: 'forensic', source: await source(work, 'testsrc2', 66) })
    const sessions = await sessionsOf(video, 20)
    const leaker = sessions[13]

    const stream = await servedStream(video, '360p', join(work, 'stream.mp4'), leaker.id)
    const clip = await leak(stream, join(work, 'leak.mp4'), 3.3, 60, 400)
    const result = await traceLeak(clip, video.id)
    assert.equal(result.named?.sessionId, leaker.id, result.message)
    assert.equal(result.named?.username, 'viewer13')
    assert.equal(result.named?.userAgent, 'TestBrowser/13')
    assert.equal(result.best?.sessionId, leaker.id)
    assert.isAtMost(result.named!.pValue * 20, mediaConfig.forensic.falseAccusationBound)
    assert.closeTo(result.offsetSeconds, 3.3, 0.2)
    assert.isAtLeast(result.segments.length, 25)

    // The command prints the same verdict and audits it, against the named viewer.
    const ace = await app.container.make('ace')
    ace.ui.switchMode('raw')
    const command = await ace.create(ForensicTrace, [clip, '--video', video.id])
    await command.exec()
    assert.equal(command.exitCode, 0)
    assert.isTrue(command.ui.logger.getLogs().some((log) => log.message.includes(`of viewer13`)))
    const audited = await AuditLog.findByOrFail('action', 'forensic.trace')
    assert.equal(audited.subjectId, video.id)
    assert.equal(audited.targetUserId, leaker.userId)

    // Nobody's sequence: the unmarked rendition, recorded the same way.
    const unmarked = await leak(await servedStream(video, '360p', join(work, 'unmarked.mp4'), null), join(work, 'leak-unmarked.mp4'), 3.3, 60, 400)
    const clean = await traceLeak(unmarked, video.id)
    assert.isNull(clean.named, clean.message)
    assert.match(clean.message, /^No session matches/)

    // The same clip against another video (other pictures, as long): refused, nobody accused.
    const other = await readyVideo(owner, { watermarkMode: 'forensic', source: await source(work, 'testsrc', 66) })
    await sessionsOf(other, 0)
    assert.match(await refusal(traceLeak(clip, other.id)), /does not match this video/)
  })

  test('a clip of a video whose picture repeats names its session: every offset that aligns as well is read, and the bound is shared among them', async ({ assert }) => {
    const owner = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
    // 30 s of the test picture played three times: a clip from 30 s aligns as well at 0 s (and 60 s would overrun).
    const loop = await source(work, 'testsrc2', 30)
    const looped = join(work, 'looped.mp4')
    await exec('ffmpeg', ['-v', 'error', '-stream_loop', '2', '-i', loop, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', looped])
    const video = await readyVideo(owner, { watermarkMode: 'forensic', source: looped })
    const sessions = await sessionsOf(video, 3)
    const leaker = sessions[1]

    const clip = await leak(await servedStream(video, '360p', join(work, 'stream.mp4'), leaker.id), join(work, 'leak.mp4'), 30, 60, 400)
    const result = await traceLeak(clip, video.id)
    assert.isAtLeast(result.offsetsTried, 2, 'the repeat at 0 s aligns as well and is read too')
    assert.isTrue(result.candidates.some((c) => Math.abs(c.offsetSeconds) < 0.3), JSON.stringify(result.candidates))
    assert.equal(result.named?.sessionId, leaker.id, result.message)
    assert.closeTo(result.offsetSeconds, 30, 0.3)
    assert.isAtMost(result.named!.pValue * 3 * 2, mediaConfig.forensic.falseAccusationBound) // each offset gets at most half the bound
    // At the wrong offset the bits are chance: nobody there comes close to the bound.
    const wrong = result.candidates.find((c) => Math.abs(c.offsetSeconds) < 0.3)!
    assert.isAbove(wrong.bestPValue! * 3 * result.offsetsTried, mediaConfig.forensic.falseAccusationBound)
  })

  test('an audio file, a still image, a file that is not media, a clip too short: each refused with its reason', async ({ assert }) => {
    const owner = await User.create({ username: 'maker', email: 'maker@example.com', password: 'correct horse battery', role: 'creator' })
    const video = await readyVideo(owner, { watermarkMode: 'forensic' })
    await sessionsOf(video, 3)
    assert.match(await refusal(traceLeak(await media.audioOnly(), video.id)), /no video stream/)
    assert.match(await refusal(traceLeak(await media.image(), video.id)), /not a video file/)
    const text = join(work, 'notes.mp4')
    await writeFile(text, 'this is not a video at all\n'.repeat(100))
    assert.match(await refusal(traceLeak(text, video.id)), /not a readable video/)
    assert.match(await refusal(traceLeak(await media.landscape(), video.id)), /The clip is too short: at least \d+ s/)

    // The command says the same, records nothing wrongly and exits non-zero.
    const ace = await app.container.make('ace')
    ace.ui.switchMode('raw')
    const command = await ace.create(ForensicTrace, [text, '--video', video.id])
    await command.exec()
    assert.equal(command.exitCode, 1)
    assert.isTrue(command.ui.logger.getLogs().some((log) => /not a readable video/.test(log.message)))
    assert.isNull(await AuditLog.findBy('action', 'forensic.trace'))

    assert.match(await refusal(traceLeak(text, 'not-a-video-id')), /There is no video not-a-video-id/)

    const plain = await readyVideo(owner, { watermarkMode: 'visible' })
    assert.match(await refusal(traceLeak(await media.landscape(), plain.id)), /has no forensic variants/)
  })
})
