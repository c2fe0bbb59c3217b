import vine from '@vinejs/vine'

export const renewValidator = vine.create({ path: vine.string().maxLength(64) })

export const positionValidator = vine.create({ seconds: vine.number().min(0).max(1_000_000) })
/** DELETE /playback/:session: where the viewer was when they left, if the player says. */
export const closeValidator = vine.create({ seconds: vine.number().min(0).max(1_000_000).optional() })
