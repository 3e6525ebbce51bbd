import type { MessagingProfile, PhoneNumber } from '../../store/records.ts';
import { html, type Raw } from '../html.ts';
import { notice } from './layout.ts';

export function loginBody(error?: string): Raw {
  return html`<h1>Sign in</h1>
${notice('error', error)}
<form method="post" action="/dashboard/login" class="card narrow">
  <label for="api-key">API key</label>
  <input id="api-key" name="api_key" type="password" autocomplete="current-password" required autofocus>
  <p class="muted">The key decides the organization: you see only its messages, profiles and numbers.</p>
  <button type="submit">Sign in</button>
</form>`;
}

export interface ComposeValues {
  from?: string;
  to?: string;
  text?: string;
  subject?: string;
  media_url?: string;
  webhook_url?: string;
}

export function composeBody(
  numbers: PhoneNumber[],
  csrfToken: string,
  v: ComposeValues,
  error?: string,
): Raw {
  return html`<h1>Compose a group MMS</h1>
${notice('error', error)}
<form method="post" action="/dashboard/compose" class="card" id="compose">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <label for="from">From</label>
  <select id="from" name="from">${numbers.map((n) => html`<option${n.phone_number === v.from ? html` selected` : ''}>${n.phone_number}</option>`)}</select>
  <label for="to">To (one number per line or comma-separated, up to 8)</label>
  <textarea id="to" name="to" rows="3" required>${v.to ?? ''}</textarea>
  <label for="subject">Subject</label>
  <input id="subject" name="subject" value="${v.subject ?? ''}">
  <label for="text">Text</label>
  <textarea id="text" name="text" rows="3">${v.text ?? ''}</textarea>
  <label for="image">Image (stored and served by the gateway)</label>
  <input id="image" type="file" accept="image/jpeg,image/png,image/gif" data-upload="/dashboard/media" data-target="media_url">
  <p id="upload-state" class="muted" aria-live="polite"></p>
  <label for="media_url">Media URL</label>
  <input id="media_url" name="media_url" value="${v.media_url ?? ''}" placeholder="https://…">
  <label for="webhook_url">Webhook URL (optional)</label>
  <input id="webhook_url" name="webhook_url" value="${v.webhook_url ?? ''}" placeholder="https://…">
  <button type="submit">Send</button>
</form>`;
}

export function profilesBody(
  profiles: MessagingProfile[],
  csrfToken: string,
  message?: { kind: 'ok' | 'error'; text: string },
): Raw {
  return html`<h1>Messaging profiles</h1>
${message ? notice(message.kind, message.text) : ''}
${profiles.map(
  (p) => html`<form method="post" action="/dashboard/profiles/${p.id}" class="card profile">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <h2>${p.data.name}</h2>
  <p class="muted">Id <code>${p.id}</code> · created ${p.created_at}</p>
  <label for="name-${p.id}">Name</label><input id="name-${p.id}" name="name" value="${p.data.name}" required>
  <label><input type="checkbox" name="enabled" value="true"${p.data.enabled ? html` checked` : ''}> Enabled</label>
  <label for="wh-${p.id}">Webhook URL</label><input id="wh-${p.id}" name="webhook_url" value="${p.data.webhook_url ?? ''}">
  <label for="whf-${p.id}">Webhook failover URL</label><input id="whf-${p.id}" name="webhook_failover_url" value="${p.data.webhook_failover_url ?? ''}">
  <label for="wl-${p.id}">Whitelisted destinations (country codes, or *)</label><input id="wl-${p.id}" name="whitelisted_destinations" value="${p.data.whitelisted_destinations.join(', ')}">
  <button type="submit">Save ${p.data.name}</button>
</form>`,
)}`;
}

export function numbersBody(
  numbers: PhoneNumber[],
  profiles: MessagingProfile[],
  csrfToken: string,
  message?: { kind: 'ok' | 'error'; text: string },
): Raw {
  return html`<h1>Numbers</h1>
${message ? notice(message.kind, message.text) : ''}
<table><thead><tr><th scope="col">Number</th><th scope="col">Messaging profile</th><th scope="col">Tags</th><th scope="col">Updated</th></tr></thead>
<tbody>${numbers.map(
    (n) => html`<tr><td>${n.phone_number}</td><td>
  <form method="post" action="/dashboard/numbers/${n.id}" class="inline">
    <input type="hidden" name="_csrf" value="${csrfToken}">
    <label class="sr-only" for="p-${n.id}">Profile of ${n.phone_number}</label>
    <select id="p-${n.id}" name="messaging_profile_id"><option value="">(none)</option>${profiles.map((p) => html`<option value="${p.id}"${p.id === n.messaging_profile_id ? html` selected` : ''}>${p.data.name}</option>`)}</select>
    <button type="submit">Save</button>
  </form></td><td>${n.tags.join(', ')}</td><td>${n.updated_at}</td></tr>`,
  )}</tbody></table>`;
}
