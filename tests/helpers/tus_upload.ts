import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import * as tus from 'tus-js-client'
import { WebClient, csrfTokenIn } from '#tests/helpers/web_client'

export interface TusResult {
  ok: boolean
  status: number
  body: string
  videoId?: string
}

export interface VideoFields {
  title?: string
  description?: string
  price?: string
  currency?: string
  visibility?: 'draft' | 'published'
}

/**
 * Uploads a file the way the studio page does: the tus protocol with the
 * real tus-js-client, the user's session cookie and CSRF header.
 */
export async function tusUpload(client: WebClient, path: string, fields: VideoFields = {}, filename = basename(path)): Promise<TusResult> {
  // The session's CSRF token, from the upload page or any page with a form.
  let csrf = 'none'
  for (const path of ['/studio/videos/new', '/account', '/login']) {
    const page = await client.get(path)
    const html = page.text.replace(/data-csrf="([^"]+)"/, "name='_csrf' value='$1'")
    if (page.status === 200 && /name=['"]_csrf['"]/.test(html)) {
      csrf = csrfTokenIn(html)
      break
    }
  }
  const data = await readFile(path)
  return new Promise((resolve) => {
    const upload = new tus.Upload(data, {
      endpoint: new URL('/studio/uploads', client.baseUrl).href,
      chunkSize: 4 * 1024 * 1024,
      retryDelays: [],
      headers: { 'cookie': client.cookieHeader(), 'x-csrf-token': csrf },
      metadata: {
        filename,
        title: fields.title ?? 'Test video',
        description: fields.description ?? '',
        price: fields.price ?? '0',
        currency: fields.currency ?? 'USD',
        visibility: fields.visibility ?? 'draft',
      },
      onError(error: any) {
        const response = error.originalResponse
        resolve({ ok: false, status: response?.getStatus() ?? 0, body: response?.getBody() ?? String(error.message) })
      },
      onSuccess(payload: any) {
        const body = payload.lastResponse.getBody()
        let videoId: string | undefined
        try {
          videoId = JSON.parse(body).videoId
        } catch {}
        resolve({ ok: true, status: payload.lastResponse.getStatus(), body, videoId })
      },
    })
    upload.start()
  })
}
