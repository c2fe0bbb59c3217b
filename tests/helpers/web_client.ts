import { request as httpRequest } from 'node:http'
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

  async request(method: string, path: string, body?: URLSearchParams | FormData | string, headers: Record<string, string> = {}) {
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

  /**
   * Submits a multipart form (file upload) the way a browser would, with the
   * CSRF token of `formPage` (unless `csrf` is false).
   */
  async upload(formPage: string, action: string, fields: Record<string, string>, files: Record<string, { name: string; body: Buffer; type?: string }>, options: { csrf?: false } = {}) {
    const form = new FormData()
    if (options.csrf !== false) {
      const page = await this.get(formPage)
      if (page.status !== 200) throw new Error(`GET ${formPage} answered ${page.status}: ${page.text.slice(0, 300)}`)
      form.set('_csrf', csrfTokenIn(page.text))
    }
    for (const [name, value] of Object.entries(fields)) form.set(name, value)
    for (const [name, file] of Object.entries(files)) form.set(name, new Blob([new Uint8Array(file.body)], { type: file.type ?? 'application/octet-stream' }), file.name)
    return this.request('POST', action, form, { referer: new URL(formPage, this.baseUrl).href })
  }

  #apiToken?: string

  /**
   * A JSON call as the player makes it: CSRF token from the page's meta tag
   * in a header. Returns the status and the parsed body (or the raw text).
   */
  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
    if (!this.#apiToken) {
      const page = await this.get('/')
      const match = page.text.match(/<meta name="csrf-token" content="([^"]+)">/)
      if (!match) throw new Error('no csrf-token meta tag on the home page')
      this.#apiToken = match[1]
    }
    const response = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body), {
      'accept': 'application/json',
      'x-csrf-token': this.#apiToken,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    })
    let parsed: unknown = response.text
    try {
      parsed = JSON.parse(response.text)
    } catch {}
    return { status: response.status, body: parsed, headers: response.headers }
  }

  /** A GET returning the raw bytes (media). */
  async bytes(path: string, headers: Record<string, string> = {}) {
    const response = await fetch(new URL(path, this.baseUrl), {
      redirect: 'manual',
      headers: { ...(this.#cookies.size ? { cookie: this.cookieHeader() } : {}), ...headers },
    })
    return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) }
  }

  /**
   * A GET with the path sent byte for byte (fetch would normalise "..";
   * an attacker's client does not).
   */
  raw(path: string, headers: Record<string, string> = {}) {
    const base = new URL(this.baseUrl)
    return new Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }>((resolve, reject) => {
      const request = httpRequest(
        { host: base.hostname, port: base.port, path, method: 'GET', headers: { cookie: this.cookieHeader(), ...headers } },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk) => chunks.push(chunk))
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks), headers: response.headers }))
        }
      )
      request.on('error', reject)
      request.end()
    })
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
