// Progressive enhancement only: every page works without this file.
// Prevents double submission: a submitted form's buttons are disabled.
document.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement)) return
  setTimeout(() => form.querySelectorAll('button[type="submit"]').forEach((b) => (b.disabled = true)), 0)
})
