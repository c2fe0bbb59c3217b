// The video player: opens a playback session, plays its signed HLS with
// hls.js (or the browser's own HLS) inside Mux's media-chrome controls,
// renews signed URLs before they expire, reopens an expired session where it
// left off, offers to resume where the viewer stopped, and draws the
// viewer's name over forensic sessions.
//
// media-chrome does the controls (big play button, seek bar with preview
// thumbnails, quality / speed / captions menus, keyboard shortcuts,
// fullscreen); this script feeds it: the quality list (hls.js levels, as the
// <video>'s `videoRenditions`), the thumbnails and caption tracks (signed
// URLs of the session), and the session's lifecycle.
/**
 * The `videoRenditions` list media-chrome's quality menu reads from its
 * media element (the shape of the media-tracks proposal hls-video-element
 * implements): index access, `selectedIndex` (-1: automatic), and
 * addrendition / change events. Selecting one calls `onselect`.
 */
class RenditionList extends EventTarget {
  #selected = -1
  length = 0
  onselect = null

  get selectedIndex() {
    return this.#selected
  }

  set selectedIndex(index) {
    if (index === this.#selected) return
    this.#selected = index
    this.onselect?.(index)
    this.dispatchEvent(new Event('change'))
  }

  [Symbol.iterator]() {
    return Array.prototype.slice.call(this)[Symbol.iterator]()
  }

  replace(renditions, selected = -1) {
    for (let i = 0; i < this.length; i++) delete this[i]
    renditions.forEach((rendition, i) => (this[i] = rendition))
    this.length = renditions.length
    this.#selected = selected
    this.dispatchEvent(new Event(renditions.length ? 'addrendition' : 'removerendition'))
  }
}

const clock = (seconds) => {
  const s = Math.floor(seconds)
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60]
  return (hms[0] ? `${hms[0]}:${String(hms[1]).padStart(2, '0')}` : String(hms[1])) + `:${String(hms[2]).padStart(2, '0')}`
}

function startPlayer(root) {
  const video = root.querySelector('video')
  const chrome = root.querySelector('[data-player-chrome]')
  const message = root.querySelector('[data-player-message]')
  const bigPlay = root.querySelector('[data-player-big-play]')
  const resumePrompt = root.querySelector('[data-player-resume]')
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? ''
  const videoId = root.dataset.videoId
  let session = null
  let hls = null
  let clockSkew = 0
  let lastSaved = 0

  // Before media-chrome is defined (it is loaded after this script), so its
  // media store finds the list when it first looks at the <video>.
  const renditions = new RenditionList()
  renditions.onselect = (index) => {
    if (hls) hls.currentLevel = index
  }
  video.videoRenditions = renditions

  // media-chrome's CC button says whether captions are on with aria-checked,
  // which a role=button may not carry: as a switch it is the same control,
  // announced as on or off. The role is set when the element upgrades.
  const captionsButton = root.querySelector('media-captions-button')
  customElements.whenDefined('media-captions-button').then(() => captionsButton?.setAttribute('role', 'switch'))

  const say = (text, kind = 'info') => {
    message.textContent = text
    message.dataset.kind = kind
    message.hidden = !text
    // A message replaces the big play button (there is nothing to play).
    bigPlay.hidden = !!text && kind === 'error'
  }

  const api = async (method, path, body) => {
    const response = await fetch(path, {
      method,
      credentials: 'same-origin',
      // These outlive the page when sent as it is left.
      keepalive: (method === 'POST' && path.endsWith('/position')) || method === 'DELETE',
      headers: { 'accept': 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const data = response.status === 204 ? null : await response.json().catch(() => null)
    if (!response.ok) throw Object.assign(new Error(data?.message ?? `Error ${response.status}`), { status: response.status, code: data?.error })
    return data
  }

  const explain = (error) => {
    const texts = {
      login_required: 'Log in to watch this video.',
      payment_required: 'Buy this video to watch it.',
      not_ready: 'This video is still processing. It will play here when it is ready.',
      too_many_sessions: error.message,
      taken_down: 'This video was taken down.',
      session_revoked: 'Playback was stopped: your access ended or you signed out.',
      ban: 'Playback was stopped: this account is banned.',
      takedown: 'Playback was stopped: this video was taken down.',
      refund: 'Playback was stopped: this purchase was refunded.',
      rental_ended: 'Your rental ended. Rent it again or buy it to keep watching.',
      pass_ended: 'Your pass ended. Buy a new pass or this video to keep watching.',
      membership_ended: 'Your membership ended. Renew it to keep watching.',
      access_ended: 'Your access to this video ended.',
    }
    resumePrompt.hidden = true
    delete root.dataset.resume
    say(texts[error.code] ?? error.message ?? 'Playback failed.', 'error')
    root.dataset.state = error.code ?? 'error'
    // What the page said the viewer holds (rendered when it loaded) is over now.
    if (/^(rental|pass|membership|access)_ended$/.test(error.code ?? '')) {
      document.querySelectorAll('[data-holding]').forEach((note) => (note.hidden = true))
    }
    // Nothing left to control: the message is all there is.
    root.dataset.stopped = ''
  }

  async function open(startAt) {
    const opened = await api('POST', `/videos/${videoId}/playback`)
    session = opened
    clockSkew = opened.serverTime - Date.now()
    root.dataset.sessionId = opened.sessionId
    root.dataset.watermarked = String(opened.watermarked)
    showOverlay(opened.overlay)
    addTracks(opened)
    listenForStop(opened.sessionId)
    return startAt ?? opened.resumeAt ?? 0
  }

  /**
   * The thumbnails and captions, as <track>s of the <video> with the
   * session's signed URLs. Captions are <track>s rather than a SUBTITLES
   * group in the master playlist: hls.js would need a media playlist per
   * language and renders only what it parsed into its own text tracks, while
   * a <track> is parsed by the browser, shows in media-chrome's captions menu
   * as is, and plays the same with native HLS (Safari), which has no hls.js.
   * A track loads its file once; both are loaded now, while their URLs are
   * fresh (a viewer may turn captions on an hour in), and kept across a
   * session reopened after expiry.
   */
  function addTracks(opened) {
    if (video.querySelector('track')) return
    // No captions: no captions entry in the settings menu (the CC button hides itself by CSS).
    if (!opened.captions?.length) root.querySelector('[data-player-captions]')?.closest('media-settings-menu-item')?.remove()
    if (opened.thumbnailsUrl) {
      const thumbnails = trackElement({ kind: 'metadata', label: 'thumbnails', src: opened.thumbnailsUrl })
      thumbnails.default = true
      // The seek bar asks for the sheet at the first hover: fetch it now, while its signed URL is fresh.
      thumbnails.addEventListener('load', () => {
        const first = thumbnails.track.cues?.[0]
        if (first) new Image().src = new URL(first.text, location.href).href.split('#')[0]
      }, { once: true })
      video.append(thumbnails)
      thumbnails.track.mode = 'hidden'
    }
    for (const caption of opened.captions ?? []) {
      const element = trackElement({ kind: 'subtitles', label: caption.label, srclang: caption.language, src: caption.url })
      element.addEventListener('load', () => {
        // Loaded while hidden; off until the viewer turns it on.
        if (element.track.mode === 'hidden') element.track.mode = 'disabled'
      }, { once: true })
      video.append(element)
      element.track.mode = 'hidden'
    }
  }

  function trackElement(attributes) {
    const element = document.createElement('track')
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value)
    return element
  }

  /**
   * A saved position: start there, paused, and ask (playing is answering
   * "resume"). Asked once the picture there is loaded: hls.js seeks to its
   * start position when the first data is buffered, after which "start over"
   * can seek back.
   */
  function offerResume(at) {
    if (at < 5) return
    if (video.readyState < 2) {
      video.addEventListener('loadeddata', () => !video.played.length && offerResume(at), { once: true })
      return
    }
    resumePrompt.querySelector('[data-player-resume-at]').textContent = clock(at)
    resumePrompt.hidden = false
    bigPlay.hidden = true
    root.dataset.resume = ''
    const close = () => {
      resumePrompt.hidden = true
      bigPlay.hidden = false
      delete root.dataset.resume
    }
    resumePrompt.querySelector('[data-player-resume-continue]').onclick = () => {
      close()
      video.play()
    }
    resumePrompt.querySelector('[data-player-resume-restart]').onclick = () => {
      close()
      video.currentTime = 0
      video.play()
    }
    video.addEventListener('play', close, { once: true })
  }

  /**
   * A forensic session: the viewer's name, drawn over the picture and moved
   * to the session's next position every few seconds of video time (a
   * deterrent; the mark that names a leak is invisible, in the segments).
   * Inside the media controller, so it stays over the picture in fullscreen.
   */
  let overlay = null
  function showOverlay(spec) {
    overlay?.element.remove()
    overlay = null
    if (!spec || !spec.positions?.length) return
    const element = document.createElement('div')
    element.className = 'player-overlay'
    element.dataset.playerOverlay = ''
    element.setAttribute('aria-hidden', 'true')
    element.setAttribute('noautohide', '')
    element.textContent = spec.text
    chrome.append(element)
    overlay = { element, spec, slot: -1 }
    moveOverlay()
  }
  function moveOverlay() {
    if (!overlay) return
    const { spec, element } = overlay
    const slot = Math.floor(video.currentTime / spec.intervalSeconds) % spec.positions.length
    if (slot === overlay.slot) return
    overlay.slot = slot
    const [left, top] = spec.positions[slot]
    // Over the picture only (not the controls), the whole name inside it.
    element.style.left = `${(left * 75).toFixed(1)}%`
    element.style.top = `${Math.round(top * Math.max(0, video.clientHeight * 0.85))}px`
    element.dataset.slot = String(slot)
  }
  video.addEventListener('timeupdate', moveOverlay)
  video.addEventListener('seeked', moveOverlay)

  /**
   * The server revokes sessions (a ban, a takedown, a refund): stop at once
   * rather than play out the buffer. Without the event channel, the refused
   * segment requests stop playback a little later.
   */
  let stopSubscription = null
  function listenForStop(sessionId) {
    import('/vendor/transmit.js')
      .then(({ Transmit }) => {
        stopSubscription?.delete().catch(() => {})
        stopSubscription = new Transmit({ baseUrl: location.origin }).subscription(`playback/${sessionId}`)
        stopSubscription.onMessage((event) => {
          if (!event?.stopped || session?.sessionId !== sessionId) return
          hls?.destroy()
          hls = null
          video.pause()
          video.removeAttribute('src')
          video.load()
          explain({ code: event.reason in STOP_REASONS ? event.reason : 'session_revoked' })
        })
        return stopSubscription.create()
      })
      .catch(() => {})
  }
  const STOP_REASONS = { ban: true, takedown: true, refund: true, rental_ended: true, pass_ended: true, membership_ended: true, access_ended: true }

  /** A fresh signed URL for a URL of the session about to expire (or expired). */
  async function renewUrl(url) {
    const parsed = new URL(url, location.href)
    const prefix = `/play/${session.sessionId}/`
    if (!parsed.pathname.startsWith(prefix)) return url
    const { url: fresh } = await api('POST', `/playback/${session.sessionId}/renew`, { path: parsed.pathname.slice(prefix.length) })
    return fresh
  }

  const expiresSoon = (url) => {
    const exp = Number(new URL(url, location.href).searchParams.get('exp'))
    return exp && exp * 1000 < Date.now() + clockSkew + 20_000
  }

  // hls.js loader that renews a signed URL before using it when it expires soon.
  const RenewingLoader = window.Hls
    ? class extends window.Hls.DefaultConfig.loader {
        load(context, config, callbacks) {
          if (!session || !expiresSoon(context.url)) return super.load(context, config, callbacks)
          renewUrl(context.url).then(
            (fresh) => {
              context.url = fresh
              super.load(context, config, callbacks)
            },
            (error) => {
              if (error.status === 410) reopen()
              else explain(error)
              super.load(context, config, callbacks)
            }
          )
        }
      }
    : null

  /** hls.js's levels as the quality menu's renditions (ids are level indexes). */
  function listLevels() {
    renditions.replace(
      hls.levels.map((level, index) => ({ id: String(index), width: level.width, height: level.height, bitrate: level.bitrate })),
      hls.autoLevelEnabled ? -1 : hls.currentLevel
    )
    root.dataset.levels = hls.levels.map((level) => `${level.height}p`).join(' ')
  }

  async function attach(startAt) {
    say('')
    delete root.dataset.stopped
    root.dataset.state = 'playing'
    // The master URL from the session may be old by now (a retry after a while).
    if (expiresSoon(session.masterUrl)) session.masterUrl = await renewUrl(session.masterUrl)
    if (window.Hls && window.Hls.isSupported()) {
      hls?.destroy()
      // Watermarked segments are rendered on demand: buffer 16 s ahead, not
      // hls.js's 30 s, so a viewer who stops early cost less work.
      const buffer = session.watermarked ? { maxBufferLength: 16, maxMaxBufferLength: 30 } : {}
      hls = new window.Hls({ loader: RenewingLoader, startPosition: startAt, ...buffer })
      hls.on(window.Hls.Events.MANIFEST_PARSED, listLevels)
      hls.on(window.Hls.Events.LEVEL_SWITCHED, (_event, data) => {
        root.dataset.level = String(hls.levels[data.level]?.height ?? '')
      })
      hls.on(window.Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) recover(data)
      })
      hls.loadSource(session.masterUrl)
      hls.attachMedia(video)
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      // Native HLS (iOS Safari has no MSE): no loader to renew URLs, so an
      // error (an expired URL after a long pause) resumes from fresh ones.
      // The browser picks the quality itself: no rendition list.
      video.onerror = () => recover({ type: 'native', details: video.error?.message ?? 'media error' })
      video.src = session.masterUrl
      video.addEventListener('loadedmetadata', () => (video.currentTime = startAt), { once: true })
    } else {
      say('This browser cannot play HLS video.', 'error')
    }
  }

  /** A fatal player error: find out why from the server, then continue or explain. */
  async function recover(data) {
    root.dataset.lastError = `${data.type}: ${data.details}`
    try {
      await api('POST', `/playback/${session.sessionId}/renew`, { path: 'master.m3u8' })
      // The session is fine: a network hiccup. Start again where we were.
      if (hls && data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError()
      else await attach(video.currentTime)
    } catch (error) {
      if (error.status === 410) reopen()
      else explain(error)
    }
  }

  /** The session expired (a long pause): open a new one and continue. */
  async function reopen() {
    const position = video.currentTime
    say('Your viewing session expired; resuming…')
    try {
      await open(position)
      await attach(position)
    } catch (error) {
      explain(error)
    }
  }

  function savePosition(force) {
    if (!session || (!force && Date.now() - lastSaved < 10_000)) return
    lastSaved = Date.now()
    api('POST', `/playback/${session.sessionId}/position`, { seconds: video.currentTime }).catch(() => {})
  }

  video.addEventListener('timeupdate', () => savePosition(false))
  video.addEventListener('pause', () => savePosition(true))
  // Leaving the page ends its session, with the position: the viewer's screen
  // is free at once for the next video (not after the idle timeout), so
  // clicking through videos never meets "already watching on 3 screens".
  // A page kept in the back/forward cache keeps its session.
  addEventListener('pagehide', (event) => {
    if (event.persisted || !session) return savePosition(true)
    const closing = session
    session = null
    api('DELETE', `/playback/${closing.sessionId}`, { seconds: video.currentTime }).catch(() => {})
  })

  const begin = () =>
    open()
      .then(async (startAt) => {
        await attach(startAt)
        offerResume(startAt)
      })
      .catch(explain)

  // A rental not started yet: its hours run from the first play, so the
  // session (which starts them) opens when the viewer asks, not on page load.
  const startPrompt = root.querySelector('[data-player-start]')
  if (startPrompt) {
    root.dataset.state = 'waiting'
    bigPlay.hidden = true
    startPrompt.querySelector('[data-player-start-button]').addEventListener(
      'click',
      () => {
        startPrompt.remove()
        bigPlay.hidden = false
        begin().then(() => session && video.play().catch(() => {}))
      },
      { once: true }
    )
  } else {
    begin()
  }
}

const root = document.querySelector('[data-player]')
if (root) startPlayer(root)
