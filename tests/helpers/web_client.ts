import env from '#start/env'

/**
 * A small browser stand-in for functional tests: real HTTP over loopback with
 * a cookie jar, manual redirects and CSRF tokens read from the pages, so
 * tests go through the same middleware (session, shield, auth) a user does.
 */
export interface WebResponse {
  status: number
  headers: Headers
  location: string | null
  text: string
}

export class WebClient {
  #cookies = new Map<string, string>()

  constructor(public baseUrl = env.get('APP_URL')) {}

  cookieHeader() {
    return [...this.#cookies.entries()].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  rawSetCookies: string[] = []

  async request(method: string, path: string, body?: URLSearchParams | string, headers: Record<string, string> = {}) {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      body,
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        ...(this.#cookies.size ? { cookie: this.cookieHeader() } : {}),
        ...(body instanceof URLSearchParams ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
    })
    this.rawSetCookies = response.headers.getSetCookie()
    for (const line of this.rawSetCookies) {
      const [pair] = line.split(';')
      const index = pair.indexOf('=')
      const name = pair.slice(0, index).trim()
      const value = pair.slice(index + 1).trim()
      if (!value || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
    return {
      status: response.status,
      headers: response.headers,
      location: this.#sameSitePath(response.headers.get('location')),
      text: await response.text(),
    } satisfies WebResponse
  }

  /** Same-origin redirects become paths, as the tests compare paths. */
  #sameSitePath(location: string | null) {
    if (!location) return null
    const url = new URL(location, this.baseUrl)
    return url.origin === new URL(this.baseUrl).origin ? url.pathname + url.search : location
  }

  get(path: string) {
    return this.request('GET', path)
  }

  /** GET following redirects (as a browser does), up to 5 hops. */
  async visit(path: string): Promise<WebResponse & { url: string }> {
    let current = path
    for (let hop = 0; hop < 5; hop++) {
      const response = await this.get(current)
      if (response.status >= 300 && response.status < 400 && response.location) {
        current = response.location
        continue
      }
      return { ...response, url: current }
    }
    throw new Error(`too many redirects from ${path}`)
  }

  /**
   * Submits a form the way a browser would: loads `formPage` to get a CSRF
   * token (unless `csrf` is given or false), then posts the fields.
   */
  async submit(formPage: string, action: string, fields: Record<string, string>, options: { csrf?: string | false } = {}) {
    const form = new URLSearchParams(fields)
    if (options.csrf !== false) {
      let token = options.csrf
      if (token === undefined) {
        const page = await this.get(formPage)
        if (page.status !== 200) throw new Error(`GET ${formPage} answered ${page.status}: ${page.text.slice(0, 300)}`)
        token = csrfTokenIn(page.text)
      }
      form.set('_csrf', token)
    }
    // Browsers send the form page as Referer; "redirect back" relies on it.
    return this.request('POST', action, form, { referer: new URL(formPage, this.baseUrl).href })
  }

  /** Registers and stays logged in. */
  async register(username: string, email: string, password = 'correct horse battery') {
    const response = await this.submit('/register', '/register', {
      username,
      email,
      password,
      password_confirmation: password,
    })
    if (response.status !== 302 || response.location !== '/') {
      throw new Error(`registration of ${username} failed: ${response.status} ${response.location}`)
    }
    return response
  }

  async login(login: string, password = 'correct horse battery') {
    return this.submit('/login', '/login', { login, password })
  }
}

export function csrfTokenIn(html: string) {
  const match = html.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)
  if (!match) throw new Error('no CSRF token in the page')
  return match[1]
}

export function fieldErrorsIn(html: string, field: string) {
  const match = html.match(new RegExp(`id="field-${field}-error">([\\s\\S]*?)</p>`))
  return match ? match[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() : ''
}
