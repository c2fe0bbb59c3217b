import vine from '@vinejs/vine'
import type { FieldContext } from '@vinejs/vine/types'
import type { ZxcvbnFactory } from '@zxcvbn-ts/core'

/**
 * zxcvbn's score, 0 to 4. 3 is what its authors call "safely unguessable":
 * about 10^10 guesses, out of reach of online guessing and costly offline
 * against an argon2 hash.
 */
export const MIN_PASSWORD_SCORE = 3

/**
 * zxcvbn-ts with its maintained dictionaries: the most common passwords of
 * real leaks, common words in many languages, English words, names and
 * Wikipedia's vocabulary, plus keyboard patterns, dates, repeats, sequences
 * and l33t substitutions. Built at the first password checked, not when the
 * validators load: the dictionaries take a moment and about 25 MB of heap,
 * which the login form (same validators file) and a web node that only
 * serves viewers never need.
 */
let zxcvbn: Promise<ZxcvbnFactory> | undefined
function checker() {
  zxcvbn ??= (async () => {
    const [{ ZxcvbnFactory: Factory }, common, english] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ])
    return new Factory({
      // The check runs on the request's thread: bounded so that no password costs
      // much (a random 128-character one took about a second with the defaults,
      // ~15 ms with these). A password whose first 32 characters are hard to
      // guess is hard to guess; l33t variants of common words are still found.
      maxLength: 32,
      l33tMaxSubstitutions: 10,
      dictionary: { ...common.dictionary, ...english.dictionary },
      graphs: common.adjacencyGraphs,
      translations: english.translations,
    })
  })()
  return zxcvbn
}

/**
 * Words about the account that must not make up the password: its username
 * and email, whole and in pieces ("ann_lee" → "ann", "lee"), and the site's
 * name. Taken from the form's own fields (registration) or the validator's
 * metadata (`meta.userInputs`: password change and reset, where the form has
 * no username).
 */
function accountWords(field: FieldContext): string[] {
  const given = [field.parent?.username, field.parent?.email, ...(field.meta?.userInputs ?? [])]
  const words = new Set<string>(['matinee'])
  for (const value of given) {
    if (typeof value !== 'string' || !value.trim()) continue
    const lower = value.trim().toLowerCase()
    words.add(lower)
    for (const piece of lower.split(/[^a-z0-9]+/)) if (piece.length >= 3) words.add(piece)
  }
  return [...words]
}

/**
 * The reason shown next to the field: zxcvbn's warning and its first
 * suggestion ("This is a commonly used password. Add more words that are
 * less common.").
 */
export async function passwordWeakness(password: string, userInputs: string[] = []): Promise<string | null> {
  const result = (await checker()).check(password, userInputs)
  if (result.score >= MIN_PASSWORD_SCORE) return null
  const reason = [result.feedback.warning, result.feedback.suggestions[0]].filter(Boolean).join(' ')
  return `This password is too easy to guess. ${reason || 'Add more words that are less common.'}`
}

async function strong(value: unknown, _options: undefined, field: FieldContext) {
  if (typeof value !== 'string' || !field.isValid) return
  const weakness = await passwordWeakness(value, accountWords(field))
  if (weakness) field.report(weakness, 'strongPassword', field)
}

export const strongPassword = vine.createRule(strong, { isAsync: true })
