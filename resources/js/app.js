// Progressive enhancement only: every page works without this file.

/*
| Forms that ask first (data-confirm="question"): destructive actions (delete,
| refund, ban, take down, remove access) open a <dialog> that names what
| happens; Cancel keeps everything, the confirm button (labelled like the
| form's own button, or data-confirm-label) submits the form as it was.
| An onsubmit attribute would be an inline script, which the
| Content-Security-Policy refuses. Listens in the capture phase, so a form
| waiting for its answer never reaches the listener below.
*/
let confirmDialog

function dialogElement() {
  if (confirmDialog) return confirmDialog
  confirmDialog = document.createElement('dialog')
  confirmDialog.className = 'confirm'
  confirmDialog.setAttribute('aria-labelledby', 'confirm-title')
  confirmDialog.innerHTML =
    '<form method="dialog">' +
    '<h2 id="confirm-title">Are you sure?</h2>' +
    '<p data-confirm-message></p>' +
    '<div class="actions">' +
    '<button type="submit" value="cancel" class="secondary" data-confirm-cancel>Cancel</button>' +
    '<button type="submit" value="confirm" class="danger" data-confirm-accept>Confirm</button>' +
    '</div></form>'
  document.body.append(confirmDialog)
  return confirmDialog
}

function ask(form, submitter) {
  const dialog = dialogElement()
  const [question, ...details] = form.dataset.confirm.split(/(?<=\?)\s+/)
  dialog.querySelector('#confirm-title').textContent = question
  dialog.querySelector('[data-confirm-message]').textContent = details.join(' ')
  dialog.querySelector('[data-confirm-message]').hidden = details.length === 0
  const label = form.dataset.confirmLabel || (submitter && submitter.textContent.trim()) || 'Confirm'
  dialog.querySelector('[data-confirm-accept]').textContent = label
  dialog.returnValue = ''
  dialog.addEventListener(
    'close',
    () => {
      if (dialog.returnValue !== 'confirm') return
      form.dataset.confirmed = 'yes'
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined)
    },
    { once: true }
  )
  dialog.showModal()
  dialog.querySelector('[data-confirm-cancel]').focus()
}

document.addEventListener(
  'submit',
  (event) => {
    const form = event.target
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return
    if (form.dataset.confirmed === 'yes') {
      delete form.dataset.confirmed
      return
    }
    event.preventDefault()
    event.stopPropagation()
    if (typeof HTMLDialogElement === 'function') ask(form, event.submitter)
    else if (window.confirm(form.dataset.confirm)) {
      form.dataset.confirmed = 'yes'
      form.requestSubmit(event.submitter || undefined)
    }
  },
  true
)

// Prevents double submission: a submitted form's buttons are disabled.
document.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement) || form.method === 'dialog') return
  setTimeout(() => form.querySelectorAll('button[type="submit"]').forEach((b) => (b.disabled = true)), 0)
})

// The phone menu closes when a link in it is followed or Escape is pressed.
const navToggle = document.getElementById('nav-toggle')
if (navToggle) {
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && navToggle.checked) navToggle.checked = false
  })
}
