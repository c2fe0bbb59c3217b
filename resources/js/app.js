// Progressive enhancement only: every page works without this file.

// Forms that ask first (data-confirm="question"). An onsubmit attribute would
// be an inline script, which the Content-Security-Policy refuses. Listens in
// the capture phase, so a cancelled form never reaches the listener below.
document.addEventListener(
  'submit',
  (event) => {
    const form = event.target
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault()
      event.stopPropagation()
    }
  },
  true
)

// Prevents double submission: a submitted form's buttons are disabled.
document.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement)) return
  setTimeout(() => form.querySelectorAll('button[type="submit"]').forEach((b) => (b.disabled = true)), 0)
})
