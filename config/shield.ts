import { defineConfig } from '@adonisjs/shield'

/**
 * `node ace serve --watch` (make dev) runs Vite's dev server, whose page
 * script reloads styles over a WebSocket on its own port (DEV_MODE is set by
 * the assembler for that server only; tests and production serve built files).
 */
const viteDevSocket = process.env.DEV_MODE ? ['ws:'] : []

const shieldConfig = defineConfig({
  /**
   * Configure CSP policies for your app. Refer documentation
   * to learn more
   */
  /**
   * Content-Security-Policy on every page. Scripts come only from this site's
   * files, or carry the request's nonce (`<script nonce="{{ cspNonce }}">`):
   * injected markup can run nothing, and there are no inline event handlers
   * (`data-confirm` in resources/js/app.js replaces onsubmit). The player's
   * hls.js runs its demuxer in a Worker made from a `blob:` URL and plays
   * through Media Source Extensions (`blob:` media); Transmit's events and
   * every API call are same-origin (`connect-src 'self'`). Wallets reach the
   * chain through their own extension, not through the page. Style
   * attributes stay allowed (`style-src-attr`): they cannot run script or
   * read the page, and a few admin charts are drawn with them.
   */
  csp: {
    enabled: true,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", '@nonce'],
      // The nonce lets the development error page (Youch) style itself; pages use /css only.
      styleSrc: ["'self'", '@nonce'],
      styleSrcAttr: ["'unsafe-inline'"],
      // The player's media-chrome web components style their shadow roots
      // with <style> elements (their templates, one per component), which no
      // nonce can reach. A <style> runs no script, and what CSS could read
      // it cannot send anywhere: images, fonts and connections are 'self'.
      styleSrcElem: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      mediaSrc: ["'self'", 'blob:'],
      workerSrc: ["'self'", 'blob:'],
      connectSrc: ["'self'", ...viteDevSocket],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      frameAncestors: ["'none'"],
    },
    reportOnly: false,
  },

  /**
   * Configure CSRF protection options. Refer documentation
   * to learn more
   */
  csrf: {
    enabled: true,
    // Webhooks authenticate their sender themselves (signatures), not with a
    // CSRF token. Transmit's subscribe calls are checked by its authorize
    // callbacks, and SameSite=Lax keeps other sites' requests cookie-less.
    exceptRoutes: (ctx) => ctx.request.url().startsWith('/webhooks/') || ctx.request.url().startsWith('/__transmit/'),
    enableXsrfCookie: false,
    methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  },

  /**
   * Control how your website should be embedded inside
   * iFrames
   */
  xFrame: {
    enabled: true,
    action: 'DENY',
  },

  /**
   * Force browser to always use HTTPS
   */
  hsts: {
    enabled: true,
    maxAge: '180 days',
  },

  /**
   * Disable browsers from sniffing the content type of a
   * response and always rely on the "content-type" header.
   */
  contentTypeSniffing: {
    enabled: true,
  },
})

export default shieldConfig