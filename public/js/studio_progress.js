// Live transcode progress on "My videos": one server-sent-event channel per
// video that is still queued or processing; no page reload.
import { Transmit } from '/vendor/transmit.js'

const rows = [...document.querySelectorAll('tr[data-video-id]')].filter((row) =>
  ['uploaded', 'queued', 'processing'].includes(row.dataset.status)
)

if (rows.length) {
  const transmit = new Transmit({ baseUrl: window.location.origin })
  for (const row of rows) {
    const subscription = transmit.subscription(`videos/${row.dataset.videoId}/progress`)
    subscription.onMessage((event) => render(row, event))
    subscription.create().catch(() => {})
  }
}

function render(row, { status, progress, lastError }) {
  row.dataset.status = status
  row.querySelector('[data-role="status"]').textContent = status
  const bar = row.querySelector('[data-role="progress"]')
  const percent = row.querySelector('[data-role="percent"]')
  const busy = status === 'queued' || status === 'processing'
  bar.hidden = !busy
  bar.value = progress
  percent.textContent = busy ? `${progress}%` : ''
  const error = row.querySelector('[data-role="error"]')
  error.hidden = !(status === 'failed' && lastError)
  error.textContent = lastError || ''
  if (status === 'ready') percent.textContent = 'ready'
}
