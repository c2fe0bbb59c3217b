import vine from '@vinejs/vine'
import { API_SCOPE_NAMES } from '#services/accounts/api_tokens'

/** Account → API tokens: a new personal token. */
export const createApiTokenValidator = vine.create({
  name: vine.string().trim().minLength(1).maxLength(80),
  // Checkboxes named scopes[]: one or more of the known scopes.
  scopes: vine.array(vine.enum(API_SCOPE_NAMES)).minLength(1).distinct(),
  // Days until it stops working; empty: never.
  expiresInDays: vine.number().withoutDecimals().in([7, 30, 90, 365]).nullable().optional(),
})
