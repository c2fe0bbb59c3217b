import vine from '@vinejs/vine'
import { sniffImage } from '#services/accounts/profiles'
import { CATALOG_FILTERS, CATALOG_SORTS, type CatalogFilter, type CatalogSort } from '#services/catalog_service'

/**
 * The catalog's query string. Each field is checked on its own: a bad one
 * is dropped (the page shows the default and says what it ignored) and the
 * good ones still apply.
 */
const catalogFields = {
  q: vine.create({ q: vine.string().trim().maxLength(100) }),
  sort: vine.create({ sort: vine.enum(CATALOG_SORTS) }),
  filter: vine.create({ filter: vine.enum(CATALOG_FILTERS) }),
  page: vine.create({ page: vine.number().withoutDecimals().min(1).max(10_000) }),
}

export interface CatalogParams {
  q: string
  sort: CatalogSort
  filter: CatalogFilter
  page: number
}

/** The catalog's parameters from a query string, and a message for each value it ignored. */
export async function readCatalogQuery(qs: Record<string, unknown>) {
  const params: CatalogParams = { q: '', sort: 'newest', filter: 'all', page: 1 }
  const ignored: string[] = []
  for (const [name, validator] of Object.entries(catalogFields)) {
    const value = qs[name]
    if (value === undefined || value === '') continue
    const [error, result] = await validator.tryValidate({ [name]: value })
    if (error) ignored.push(`Ignored ${name} "${String(value).slice(0, 40)}": expected ${hint(name)}`)
    else Object.assign(params, result)
  }
  return { params, ignored }
}

function hint(name: string) {
  if (name === 'sort') return `one of ${CATALOG_SORTS.join(', ')}`
  if (name === 'filter') return `one of ${CATALOG_FILTERS.join(', ')}`
  if (name === 'page') return 'a page number'
  return 'a search of at most 100 characters'
}

/** An uploaded picture whose first bytes say JPEG, PNG or WebP (its name is not believed). */
const pictureContent = vine.createRule(
  async (value, _options, field) => {
    const path = (value as { tmpPath?: string } | undefined)?.tmpPath
    if (path && !(await sniffImage(path))) field.report('The avatar must be a JPEG, PNG or WebP picture', 'avatar.content', field)
  },
  { isAsync: true }
)

/** A creator's profile as they edit it on their account page. */
export const profileValidator = vine.create({
  displayName: vine.string().trim().maxLength(80).optional(),
  bio: vine.string().trim().maxLength(1000).optional(),
  avatar: vine.file({ size: '2mb', extnames: ['jpg', 'jpeg', 'png', 'webp'] }).use(pictureContent()).optional(),
  removeAvatar: vine.boolean().optional(),
})
