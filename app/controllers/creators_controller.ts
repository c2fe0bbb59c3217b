import type { HttpContext } from '@adonisjs/core/http'
import User from '#models/user'
import catalog from '#services/catalog_service'
import memberships from '#services/commerce/memberships'
import { readCatalogQuery } from '#validators/catalog'
import { lookUpStoredObject, sendStoredObject } from '#services/media/stored_object'

export default class CreatorsController {
  /** `/@username`: a creator's name, bio, avatar, membership (if offered) and published videos. */
  async show({ params, request, view, auth, response }: HttpContext) {
    const creator = await this.#creator(params.username)
    if (!creator) return response.notFound('There is no such creator')
    const { params: query, ignored } = await readCatalogQuery(request.qs())
    const videos = await catalog.list({ ...query, search: query.q, ownerId: creator.id, viewer: auth.user })
    videos.baseUrl(creator.profileUrl)
    videos.queryString({ sort: query.sort, filter: query.filter })
    const [owned, membership] = await Promise.all([
      catalog.ownedAmong(auth.user, videos.all().map((video) => video.id)),
      memberships.offerOf(creator.id),
    ])
    return view.render('pages/creators/show', { creator, videos, owned, query, ignored, membership })
  }

  /** The avatar, streamed by the app (storage is never public); its URL changes with the picture. */
  async avatar({ params, response }: HttpContext) {
    const creator = await this.#creator(params.username)
    const object = creator?.avatarKey ? await lookUpStoredObject(creator.avatarKey, undefined) : null
    if (!object || object.kind !== 'object') return response.notFound('No avatar')
    response.header('Cache-Control', 'public, max-age=86400')
    response.header('X-Content-Type-Options', 'nosniff')
    return sendStoredObject(response, object)
  }

  async #creator(username: string) {
    if (!/^[A-Za-z0-9_]{1,30}$/.test(String(username))) return null
    const user = await User.findByUsername(String(username))
    // Banned accounts have no public page.
    return user && !user.bannedAt ? user : null
  }
}
