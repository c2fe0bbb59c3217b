import { WATERMARK_MODES } from '#services/watermark/modes'
import { VIDEO_STATUSES } from '#models/video'
import vine from '@vinejs/vine'
import { ROLES } from '#models/user'

export const userFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(100).optional(),
  role: vine.enum([...ROLES, 'banned'] as const).optional(),
  page: vine.number().withoutDecimals().min(1).max(100_000).optional(),
})

export const videoFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(100).optional(),
  status: vine.enum([...VIDEO_STATUSES, 'taken_down', 'archived'] as const).optional(),
  page: vine.number().withoutDecimals().min(1).max(100_000).optional(),
})

export const userRoleValidator = vine.create({
  role: vine.enum(ROLES),
})

export const banValidator = vine.create({
  /** Shown to admins in the audit log and the user list. */
  reason: vine.string().trim().minLength(3).maxLength(500),
})

/** Admin → Videos: the instance's default watermark mode (`automatic`: WATERMARK_DEFAULT_MODE, else visible when paid). */
export const watermarkDefaultValidator = vine.create({
  mode: vine.enum(['automatic', ...WATERMARK_MODES] as const),
})
