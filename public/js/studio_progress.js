// Live transcode progress on "My videos": polls the stored status and
// progress (the worker saves FFmpeg's -progress against the duration every
// couple of seconds) of the videos that are still queued or processing, and
// reloads the page when one is done (its thumbnail and figures appear).
const busyStates = ['uploaded', 'queued', 'processing']
const rows = new Map(
  [...document.querySelectorAll('tr[data-video-id]')].filter((row) => busyStates.includes(row.dataset.status)).map((row) => [row.dataset.videoId, row])
)
const POLL_MS = 2000

async function poll() {
  if (!rows.size) return
  try {
    const response = await fetch(`/studio/videos/progress?ids=${[...rows.keys()].join(',')}`, { headers: { accept: 'application/json' } })
    if (response.ok) {
      const { videos } = await response.json()
      for (const video of videos) render(rows.get(video.id), video)
    }
  } catch {
    // Offline for a moment: the next poll catches up.
  }
  setTimeout(poll, POLL_MS)
}

function render(row, { id, status, progress, lastError }) {
  if (!row) return
  const finished = !busyStates.includes(status)
  row.dataset.status = status
  row.querySelector('[data-role="status"]').textContent = status
  const bar = row.querySelector('[data-role="progress"]')
  const percent = row.querySelector('[data-role="percent"]')
  bar.hidden = finished
  bar.value = progress
  percent.textContent = finished ? '' : `${progress}%`
  const error = row.querySelector('[data-role="error"]')
  error.hidden = !(status === 'failed' && lastError)
  error.textContent = lastError || ''
  if (finished) {
    rows.delete(id)
    if (status === 'ready') window.location.reload()
  }
}

setTimeout(poll, POLL_MS)
