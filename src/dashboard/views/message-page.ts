import type {
  JobRecord,
  RecipientRecord,
  WebhookAttemptRecord,
  WebhookEventRecord,
} from '../../store/records.ts';
import type { MessageWithRecipients } from '../../store/sql/messages.ts';
import { html, type Raw } from '../html.ts';
import { statusBadge, time } from './messages.ts';

export interface MessagePageData {
  group: MessageWithRecipients;
  events: WebhookEventRecord[];
  attempts: WebhookAttemptRecord[];
  sendJobs: JobRecord[];
  thread: MessageWithRecipients[];
  csrfToken: string;
  notice?: string;
}

const STATUS_ORDER = ['queued', 'sending', 'sent'];

interface Step {
  at: string | null;
  /** Its status; anything after `sent` is final. */
  status: string;
  label: Raw | string;
  detail?: Raw | string;
}

function timeline(
  m: MessageWithRecipients['message'],
  r: RecipientRecord,
  events: WebhookEventRecord[],
): Step[] {
  const steps: Step[] = [
    { at: m.received_at, status: 'queued', label: statusBadge('queued'), detail: 'accepted by the API' },
  ];
  for (const e of events.filter((e) => e.recipient_id === r.id)) {
    const to = (e.payload as { to?: Array<{ status?: string }> }).to?.[0];
    const status = to?.status ?? e.event_type;
    steps.push({ at: e.occurred_at, status, label: statusBadge(status), detail: `${e.event_type} event` });
  }
  if (r.sent_at && !steps.some((s) => s.status === 'sent')) {
    steps.push({ at: r.sent_at, status: 'sent', label: statusBadge('sent') });
  }
  if (r.completed_at && !steps.some((s) => s.status === r.status)) {
    steps.push({ at: r.completed_at, status: r.status, label: statusBadge(r.status) });
  }
  // Statuses only move forward, so their order decides; the time breaks ties within one status.
  const rank = (s: Step) => {
    const i = STATUS_ORDER.indexOf(s.status);
    return i === -1 ? STATUS_ORDER.length : i;
  };
  return steps.sort((a, b) => rank(a) - rank(b) || String(a.at).localeCompare(String(b.at)));
}

function recipientCard(
  m: MessageWithRecipients['message'],
  r: RecipientRecord,
  events: WebhookEventRecord[],
): Raw {
  return html`<article class="recipient" data-recipient="${r.phone_number}">
  <h3>${r.phone_number} ${statusBadge(r.status)}</h3>
  <dl class="facts">
    <dt>Recipient id</dt><dd><code>${r.id}</code></dd>
    <dt>Carrier</dt><dd>${r.carrier ?? 'unknown'} ${r.line_type ? `(${r.line_type})` : ''}</dd>
    <dt>Carrier message id</dt><dd><code>${r.carrier_message_id ?? '—'}</code></dd>
    ${r.cost ? html`<dt>Cost</dt><dd>${r.cost.amount} ${r.cost.currency}</dd>` : ''}
  </dl>
  <ol class="timeline">${timeline(m, r, events).map(
    (s) => html`<li>${time(s.at)} ${s.label} <span class="muted">${s.detail ?? ''}</span></li>`,
  )}</ol>
  ${r.errors.length > 0 ? html`<ul class="errors">${r.errors.map((e) => html`<li><strong>${e.code}</strong> ${e.title}${e.detail ? ` — ${e.detail}` : ''}</li>`)}</ul>` : ''}
</article>`;
}

function retries(jobs: JobRecord[]): Raw | string {
  if (jobs.length === 0) return '';
  return html`<section><h2>Carrier submission retries</h2><ul>${jobs.map(
    (j) =>
      html`<li>${j.attempts} failed attempt(s); last reason: <code>${j.last_error ?? '—'}</code>; next attempt ${time(new Date(j.run_at).toISOString())}</li>`,
  )}</ul></section>`;
}

function media(m: MessageWithRecipients['message']): Raw | string {
  if (m.media.length === 0) return '';
  return html`<section><h2>Media</h2><ul class="media">${m.media.map((item) => {
    // Only media the gateway serves itself is previewed: the page makes no third-party requests.
    const local = /\/media\/([0-9a-f]{64})$/.exec(item.url);
    return html`<li>
      ${local && item.content_type?.startsWith('image/') ? html`<img src="/media/${local[1]}" alt="Attached image" width="160">` : ''}
      <dl class="facts">
        <dt>URL</dt><dd><code>${item.url}</code></dd>
        <dt>Type</dt><dd>${item.content_type ?? 'not fetched yet'}</dd>
        <dt>Size</dt><dd>${item.size === null ? '—' : `${item.size} bytes`}</dd>
        <dt>SHA-256</dt><dd><code>${item.sha256 ?? '—'}</code></dd>
      </dl></li>`;
  })}</ul></section>`;
}

function attemptRow(a: WebhookAttemptRecord): Raw {
  const headers = Object.entries(a.request_headers ?? {});
  return html`<tr class="attempt">
  <td>${a.attempt}</td><td>${time(a.created_at)}</td><td><code>${a.url}</code></td>
  <td>${a.status_code ?? '—'} <span class="muted">${a.outcome}</span></td><td>${a.duration_ms} ms</td>
  <td>${a.response_body ? html`<code>${a.response_body.slice(0, 200)}</code>` : ''}${a.error ? html`<span class="err">${a.error}</span>` : ''}</td>
  <td>${headers.length > 0 ? html`<details><summary>${headers.length} headers</summary><pre>${headers.map(([k, v]) => `${k}: ${v}\n`).join('')}</pre></details>` : '—'}</td>
</tr>`;
}

function webhookEvents(d: MessagePageData): Raw {
  if (d.events.length === 0)
    return html`<section><h2>Webhooks</h2><p class="muted">No webhook URL: no events.</p></section>`;
  return html`<section><h2>Webhooks</h2>${d.events.map((e) => {
    const attempts = d.attempts.filter((a) => a.event_id === e.id);
    const recipient = d.group.recipients.find((r) => r.id === e.recipient_id);
    return html`<article class="event" data-event="${e.id}" data-event-type="${e.event_type}">
  <h3>${e.event_type} <span class="muted">for ${recipient?.phone_number ?? e.recipient_id}</span> ${statusBadge(e.status)}</h3>
  <p class="muted">Event <code>${e.id}</code>, occurred ${time(e.occurred_at)}</p>
  <table class="attempts"><thead><tr><th scope="col">Round</th><th scope="col">At</th><th scope="col">URL</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Response / error</th><th scope="col">Signed headers</th></tr></thead>
  <tbody>${attempts.length > 0 ? attempts.map(attemptRow) : html`<tr><td colspan="7" class="muted">No attempt yet.</td></tr>`}</tbody></table>
  <form method="post" action="/dashboard/webhook-events/${e.id}/resend">
    <input type="hidden" name="_csrf" value="${d.csrfToken}">
    <button type="submit"${e.status === 'pending' ? html` disabled` : ''}>Resend event</button>
  </form>
</article>`;
  })}</section>`;
}

function thread(d: MessagePageData): Raw {
  const me = d.group.message.from_number;
  return html`<section><h2>Conversation</h2>
<p class="muted">Messages between ${[me, ...d.group.recipients.map((r) => r.phone_number)].join(', ')}, oldest first.</p>
<ol class="thread">${[...d.thread].reverse().map(({ message: m, recipients }) => {
    const inbound = (m as { direction?: string }).direction === 'inbound';
    return html`<li class="bubble ${inbound ? 'in' : 'out'}${m.id === d.group.message.id ? ' current' : ''}">
  <div class="meta">${m.from_number} · ${time(m.received_at)}</div>
  <div><a href="/dashboard/messages/${m.id}">${m.text || `(${m.media.length} media)`}</a></div>
  ${inbound ? '' : html`<div class="ticks">${recipients.map((r) => html`<span title="${r.phone_number}: ${r.status}" class="tick s-${r.status}">${r.phone_number.slice(-4)} ${tick(r.status)}</span>`)}</div>`}
</li>`;
  })}</ol></section>`;
}

function tick(status: string): string {
  if (status === 'delivered') return '✓✓';
  if (status === 'sent' || status === 'delivery_unconfirmed') return '✓';
  if (status.includes('failed') || status === 'expired') return '✗';
  return '…';
}

export function messagePageBody(d: MessagePageData): Raw {
  const m = d.group.message;
  return html`<p><a href="/dashboard">← Messages</a></p>
<h1>Message <code>${m.id}</code></h1>
${d.notice ? html`<p class="notice ok" role="status">${d.notice}</p>` : ''}
<dl class="facts wide">
  <dt>From</dt><dd>${m.from_number}</dd>
  <dt>Received</dt><dd>${time(m.received_at)}</dd>
  <dt>Subject</dt><dd>${m.subject ?? '—'}</dd>
  <dt>Text</dt><dd class="text">${m.text ?? '—'}</dd>
  <dt>Webhook URL</dt><dd><code>${m.webhook_url ?? '—'}</code></dd>
</dl>
<section><h2>Recipients</h2><div class="recipients">${d.group.recipients.map((r) => recipientCard(m, r, d.events))}</div></section>
${retries(d.sendJobs)}
${media(m)}
${webhookEvents(d)}
${thread(d)}`;
}
