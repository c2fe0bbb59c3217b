/*
| Server-sent event channels and who may listen to them.
*/
import transmit from '@adonisjs/transmit/services/main'

transmit.registerRoutes()

/** Transcode progress of a video: its owner and admins only. */
transmit.authorize<{ id: string }>('videos/:id/progress', async (ctx, { id }) => {
  const user = ctx.auth.user
  if (!user) return false
  if (user.isAdmin) return true
  // Imported lazily: a preload must not need the generated schema (migrations regenerate it).
  const { default: Video } = await import('#models/video')
  const video = await Video.find(id).catch(() => null)
  return !!video && video.ownerId === user.id
})

/** Revocation of one playback session: the viewer who opened it only. */
transmit.authorize<{ id: string }>('playback/:id', async (ctx, { id }) => {
  const user = ctx.auth.user
  if (!user) return false
  const { default: PlaybackSession } = await import('#models/playback_session')
  const session = await PlaybackSession.find(id).catch(() => null)
  return !!session && session.userId === user.id
})
