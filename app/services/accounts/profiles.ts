import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type User from '#models/user'
import storage from '#services/storage_service'
import { RefusedActionError } from '#exceptions/refused_action_error'

/** What the first bytes of an image say it is; the file name is not believed. */
const IMAGE_SIGNATURES: Array<{ type: 'jpg' | 'png' | 'webp'; test: (head: Buffer) => boolean }> = [
  { type: 'jpg', test: (head) => head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff },
  { type: 'png', test: (head) => head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'webp', test: (head) => head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP' },
]

export async function sniffImage(path: string) {
  const file = await open(path, 'r')
  try {
    const head = Buffer.alloc(12)
    await file.read(head, 0, 12, 0)
    return IMAGE_SIGNATURES.find((signature) => signature.test(head))?.type ?? null
  } finally {
    await file.close()
  }
}

export interface ProfileInput {
  displayName?: string
  bio?: string
  /** A validated upload (profileValidator: type by name and content, size). */
  avatarPath?: string
  removeAvatar?: boolean
}

/**
 * A user's public profile (their creator page `/@username`): display name,
 * bio and avatar. The avatar is stored like everything else (never served
 * by the storage itself) under a new key each time, so its URL can be cached.
 */
export class ProfileService {
  async update(user: User, input: ProfileInput) {
    let newKey: string | null = null
    if (input.avatarPath) {
      const type = await sniffImage(input.avatarPath)
      if (!type) throw new RefusedActionError('avatar_not_image', 422, 'The avatar must be a JPEG, PNG or WebP picture')
      newKey = `avatars/${user.id}/${randomBytes(8).toString('hex')}.${type}`
      await storage.put(newKey, createReadStream(input.avatarPath), { contentType: type === 'jpg' ? 'image/jpeg' : `image/${type}` })
    }
    const previous = user.avatarKey
    user.merge({ displayName: input.displayName || null, bio: input.bio || null })
    if (newKey) user.avatarKey = newKey
    else if (input.removeAvatar) user.avatarKey = null
    await user.save()
    if (previous && previous !== user.avatarKey) await storage.delete(previous).catch(() => {})
    return user
  }
}

const profiles = new ProfileService()
export default profiles
