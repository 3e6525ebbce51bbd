import { RECIPIENT_STATUSES } from '../../messages/status.ts';
import type { MessageWithRecipients } from '../../store/sql/messages.ts';
import { html, type Raw } from '../html.ts';

export interface ListQuery {
  direction?: string;
  status?: string;
  from?: string;
  to?: string;
  date_from?: string;
  date_to?: string;
  q?: string;
  after?: string;
}

const directionOf = (m: MessageWithRecipients['message']) =>
  (m as { direction?: string }).direction ?? 'outbound';

export function statusBadge(status: string): Raw {
  return html`<span class="status s-${status}">${status.replaceAll('_', ' ')}</span>`;
}

export function time(iso: string | null): Raw | string {
  return iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : '—';
}

/** The table rows, also sent over SSE when the first page changes. */
export function messageRows(items: MessageWithRecipients[]): Raw {
  if (items.length === 0) return html`<tr><td colspan="5" class="empty">No messages match.</td></tr>`;
  return html`${items.map(
    ({ message: m, recipients }) => html`<tr data-id="${m.id}">
  <td>${time(m.received_at)}</td>
  <td><span class="dir">${directionOf(m)}</span></td>
  <td>${m.from_number}</td>
  <td><ul class="to">${recipients.map((r) => html`<li>${r.phone_number} ${statusBadge(r.status)}</li>`)}</ul></td>
  <td><a href="/dashboard/messages/${m.id}">${m.text ? m.text.slice(0, 80) : m.media.length > 0 ? `(${m.media.length} media)` : '(empty)'}</a>${m.media.length > 0 && m.text ? html` <span class="muted">+${m.media.length} media</span>` : ''}</td>
</tr>`,
  )}`;
}

export function messagesBody(q: ListQuery, items: MessageWithRecipients[], nextAfter: string | null): Raw {
  const params = new URLSearchParams(
    Object.entries(q).filter(([k, v]) => k !== 'after' && v) as [string, string][],
  );
  const live = !q.after;
  const option = (value: string, current: string | undefined, label = value) =>
    html`<option value="${value}"${value === (current ?? '') ? html` selected` : ''}>${label}</option>`;
  return html`<h1>Messages</h1>
<form class="filters" method="get" action="/dashboard" role="search" aria-label="Filter messages">
  <label>Direction <select name="direction">${option('', q.direction, 'any')}${option('outbound', q.direction)}${option('inbound', q.direction)}</select></label>
  <label>Status <select name="status">${option('', q.status, 'any')}${RECIPIENT_STATUSES.map((s) => option(s, q.status))}</select></label>
  <label>Sender <input name="from" value="${q.from ?? ''}" placeholder="+1…" size="14"></label>
  <label>Recipient <input name="to" value="${q.to ?? ''}" placeholder="+1…" size="14"></label>
  <label>From date <input type="date" name="date_from" value="${q.date_from ?? ''}"></label>
  <label>To date <input type="date" name="date_to" value="${q.date_to ?? ''}"></label>
  <label>Search <input type="search" name="q" value="${q.q ?? ''}" placeholder="text or subject"></label>
  <button type="submit">Apply</button> <a href="/dashboard">Reset</a>
</form>
<p class="muted" id="live-state" aria-live="polite">${live ? 'Live: new messages and status changes appear here.' : 'Older page (not live).'}</p>
<table class="messages">
  <thead><tr><th scope="col">Received</th><th scope="col">Dir.</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Message</th></tr></thead>
  <tbody id="message-rows"${live ? html` data-live="/dashboard/stream?${params.toString()}"` : ''}>${messageRows(items)}</tbody>
</table>
<nav class="pager" aria-label="Pages">
  ${q.after ? html`<a href="/dashboard?${params.toString()}">Newest</a>` : ''}
  ${nextAfter ? html`<a href="/dashboard?${params.toString()}${params.size ? '&' : ''}after=${nextAfter}" rel="next">Older →</a>` : ''}
</nav>`;
}
