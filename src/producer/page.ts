/**
 * The seed's "Send Message" page (S16): one field, one button, a form POST to
 * /msk-producer-send. Without JavaScript the browser shows the plain answer; with
 * it the answer appears under the form, in a live region screen readers announce.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Send Message</title>
<style>
  :root { color-scheme: light dark; --accent: #2563eb; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center;
    font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    background: Canvas; color: CanvasText; }
  main { width: min(28rem, 92vw); padding: 2rem; border-radius: 12px;
    border: 1px solid color-mix(in srgb, CanvasText 15%, transparent);
    box-shadow: 0 10px 30px color-mix(in srgb, CanvasText 10%, transparent); }
  h1 { margin: 0 0 0.25rem; font-size: 1.5rem; }
  p.hint { margin: 0 0 1.5rem; opacity: 0.75; }
  label { display: block; font-weight: 600; margin-bottom: 0.35rem; }
  .row { display: flex; gap: 0.5rem; }
  input { flex: 1; min-width: 0; padding: 0.6rem 0.75rem; font: inherit; border-radius: 8px;
    border: 1px solid color-mix(in srgb, CanvasText 30%, transparent); background: Field; color: FieldText; }
  input:focus-visible, button:focus-visible { outline: 3px solid color-mix(in srgb, var(--accent) 60%, transparent); outline-offset: 2px; }
  button { padding: 0.6rem 1.1rem; font: inherit; font-weight: 600; border: 0; border-radius: 8px;
    background: var(--accent); color: white; cursor: pointer; }
  button:disabled { opacity: 0.6; cursor: progress; }
  #result { margin: 1.25rem 0 0; min-height: 1.5em; font-weight: 600; }
  #result.error { color: #dc2626; }
</style>
</head>
<body>
<main>
  <h1>Send Message</h1>
  <p class="hint">Sends that many records, each a random number of seconds of work (0 to 10), to Kafka.</p>
  <form id="send" method="post" action="/msk-producer-send">
    <label for="message">Number of messages</label>
    <div class="row">
      <input id="message" name="message" type="text" inputmode="numeric" autocomplete="off" required>
      <button type="submit">Submit</button>
    </div>
  </form>
  <p id="result" role="status" aria-live="polite"></p>
</main>
<script>
  const form = document.getElementById('send')
  const result = document.getElementById('result')
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const button = form.querySelector('button')
    button.disabled = true
    result.className = ''
    result.textContent = 'Sending...'
    try {
      const response = await fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) })
      result.textContent = await response.text()
      if (!response.ok) result.className = 'error'
    } catch (err) {
      result.className = 'error'
      result.textContent = 'Could not reach the server: ' + err.message
    } finally {
      button.disabled = false
    }
  })
</script>
</body>
</html>
`
