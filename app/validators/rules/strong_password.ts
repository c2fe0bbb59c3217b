import vine from '@vinejs/vine'
import type { FieldContext } from '@vinejs/vine/types'

/**
 * Passwords too common or too repetitive to resist a guess, even when long
 * enough. Length limits are separate rules.
 */
const COMMON = new Set([
  'password', 'password1', 'password123', 'passw0rd', '1234567890', '12345678910', '0123456789',
  'qwertyuiop', 'qwerty1234', 'iloveyou12', 'letmein123', 'welcome123', 'abc1234567', 'admin12345',
  'football12', 'baseball12', 'monkey1234', 'dragon1234', 'sunshine12', 'princess12', 'matinee123',
])

function strong(value: unknown, _options: undefined, field: FieldContext) {
  if (typeof value !== 'string') return
  const lower = value.toLowerCase()
  const distinct = new Set(lower).size
  const sameAsUsername = typeof field.parent?.username === 'string' && lower.includes(field.parent.username.toLowerCase())
  if (COMMON.has(lower) || distinct < 4 || sameAsUsername) {
    field.report('The password is too easy to guess: avoid common words, repeats and your username', 'strongPassword', field)
  }
}

export const strongPassword = vine.createRule(strong)
