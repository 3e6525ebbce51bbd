// Progressive enhancement for the server-rendered dashboard: every page works without this file.

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

// Live message list: the server pushes the first page's rows whenever they change.
const rows = document.querySelector('[data-live]');
if (rows && 'EventSource' in window) {
  const state = document.getElementById('live-state');
  const source = new EventSource(rows.getAttribute('data-live'));
  source.addEventListener('rows', (event) => {
    rows.innerHTML = JSON.parse(event.data).html;
  });
  source.addEventListener('open', () => {
    if (state) state.textContent = 'Live: new messages and status changes appear here.';
  });
  source.addEventListener('error', () => {
    if (state) state.textContent = 'Live updates paused; reconnecting…';
  });
  window.addEventListener('pagehide', () => source.close());
}

// Image upload on the compose form: the gateway stores the file and the form sends its URL.
for (const input of document.querySelectorAll('input[type="file"][data-upload]')) {
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    const state = document.getElementById('upload-state');
    const target = document.getElementById(input.getAttribute('data-target'));
    if (!file || !target) return;
    if (state) state.textContent = `Uploading ${file.name}…`;
    const response = await fetch(input.getAttribute('data-upload'), {
      method: 'POST',
      headers: { 'content-type': file.type || 'application/octet-stream', 'x-csrf-token': csrfToken },
      body: file,
      credentials: 'same-origin',
    });
    const result = await response.json();
    if (!response.ok) {
      if (state) state.textContent = result.error ?? `Upload failed (${response.status}).`;
      return;
    }
    target.value = result.url;
    if (state)
      state.textContent = `Stored ${result.content_type}, ${result.size} bytes, SHA-256 ${result.sha256}.`;
  });
}
