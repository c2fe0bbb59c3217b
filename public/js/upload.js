// Resumable upload with tus: progress bar, pause/resume, automatic retries
// after a dropped connection, and resume after a page reload (pick the same
// file again: tus finds the earlier upload by its fingerprint).
;(() => {
  const form = document.getElementById('upload-form')
  if (!form || !window.tus) return
  const status = form.querySelector('.upload-status')
  const bar = document.getElementById('upload-progress')
  const percent = document.getElementById('upload-percent')
  const pause = document.getElementById('upload-pause')
  const errorBox = document.getElementById('upload-error')
  const submit = form.querySelector('button[type="submit"]')
  const maxBytes = Number(form.dataset.maxBytes)
  const extensions = form.dataset.extensions.split(',')
  let upload = null

  const showError = (message) => {
    errorBox.textContent = message
    errorBox.hidden = false
    submit.disabled = false
  }

  // Problems go next to the field that caused them (aria-describedby), the rest in the box above.
  const clearFieldErrors = () => {
    for (const message of form.querySelectorAll('.field-error[data-client-error]')) message.remove()
    for (const input of form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute('aria-invalid')
    for (const field of form.querySelectorAll('.field.has-error')) field.classList.remove('has-error')
  }

  const showFieldError = (name, message) => {
    const input = form.querySelector(`[name="${name}"]`)
    if (!input) return showError(message)
    const field = input.closest('.field') || input.parentElement
    const error = document.createElement('p')
    error.className = 'field-error'
    error.id = `field-${name}-client-error`
    error.dataset.clientError = ''
    error.textContent = message
    field.classList.add('has-error')
    field.append(error)
    input.setAttribute('aria-invalid', 'true')
    input.setAttribute('aria-describedby', [error.id, input.getAttribute('aria-describedby')].filter(Boolean).join(' '))
    submit.disabled = false
    input.focus()
  }

  /** The server checks the details before the file goes up (the upload checks them again). */
  const checkDetails = async (details) => {
    const response = await fetch('/studio/videos/check', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'X-CSRF-TOKEN': form.dataset.csrf },
      body: JSON.stringify(details),
    }).catch(() => null)
    if (!response || response.status !== 422) return true
    const { errors } = await response.json()
    for (const [name, messages] of Object.entries(errors).reverse()) showFieldError(name, messages.join(' '))
    return false
  }

  const serverMessage = (error) => {
    const body = error.originalResponse && error.originalResponse.getBody()
    if (body) return body.trim()
    return 'The upload was interrupted. Press Upload again to resume it.'
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    errorBox.hidden = true
    clearFieldErrors()
    const file = form.file.files[0]
    if (!file) return showFieldError('file', 'Choose a video file first.')
    const extension = file.name.split('.').pop().toLowerCase()
    if (!extensions.includes(extension)) return showFieldError('file', `Files ending in .${extension} are not accepted.`)
    if (file.size > maxBytes) return showFieldError('file', 'This file is larger than the upload limit.')
    if (file.size === 0) return showFieldError('file', 'The file is empty.')
    if (!form.title.value.trim()) return showFieldError('title', 'Give the video a title.')
    const details = {
      title: form.title.value,
      description: form.description.value,
      price: form.price.value,
      currency: form.currency.value,
      visibility: form.visibility.value,
      watermark: form.watermark.value,
    }
    submit.disabled = true
    if (!(await checkDetails(details))) return

    submit.disabled = true
    status.hidden = false
    upload = new window.tus.Upload(file, {
      endpoint: '/studio/uploads',
      chunkSize: 16 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      removeFingerprintOnSuccess: true,
      headers: { 'X-CSRF-TOKEN': form.dataset.csrf },
      metadata: {
        filename: file.name,
        filetype: file.type,
        ...details,
      },
      onProgress(sent, total) {
        const value = Math.floor((sent / total) * 100)
        bar.value = value
        percent.textContent = `${value}%`
      },
      onError(error) {
        showError(serverMessage(error))
      },
      onSuccess() {
        bar.value = 100
        percent.textContent = 'Uploaded: transcoding starts.'
        // "My videos" shows the new video's transcode progress live.
        window.location.assign('/studio/videos')
      },
    })
    const previous = await upload.findPreviousUploads()
    if (previous.length) upload.resumeFromPreviousUpload(previous[0])
    upload.start()
  })

  pause.addEventListener('click', () => {
    if (!upload) return
    if (pause.dataset.paused) {
      delete pause.dataset.paused
      pause.textContent = 'Pause'
      upload.start()
    } else {
      pause.dataset.paused = '1'
      pause.textContent = 'Resume'
      upload.abort()
    }
  })
})()
