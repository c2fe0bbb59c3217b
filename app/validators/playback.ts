import vine from '@vinejs/vine'

export const renewValidator = vine.create({ path: vine.string().maxLength(64) })

export const positionValidator = vine.create({ seconds: vine.number().min(0).max(1_000_000) })
