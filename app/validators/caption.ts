import vine from '@vinejs/vine'
import captionsConfig from '#config/captions'

/**
 * A subtitle upload: the language it is in and the file. Only its size is
 * checked here: text files have no magic number to detect, so the name and
 * the content are checked by the caption service, which says what is wrong.
 */
/** The cap as people read it in the error ("1MB", not 1048576). */
const MB = 1024 * 1024
const cap = captionsConfig.maxBytes % MB === 0 ? `${captionsConfig.maxBytes / MB}MB` : `${Math.floor(captionsConfig.maxBytes / 1024)}KB`

export const captionUploadValidator = vine.create({
  language: vine.string().trim().minLength(2).maxLength(35),
  file: vine.file({ size: cap }),
})
