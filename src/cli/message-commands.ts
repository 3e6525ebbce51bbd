import fs from 'node:fs';
import { type Command, Option } from 'commander';
import { loadConfig } from '../config/config.ts';
import { isFinalStatus, type RecipientStatus } from '../messages/status.ts';
import { CliError, output, run, table } from './command-kit.ts';
import { parseCsv } from './csv.ts';

/**
 * Sending and reading messages go through the HTTP API of a running gateway, as an application's
 * would: the same validation, errors and wake-up of the workers, on any store and any node.
 */
interface ApiOptions {
  url?: string;
  key?: string;
}

interface Recipient {
  phone_number: string;
  status: RecipientStatus;
  errors?: Array<{ code: string; title: string }>;
}
interface MessageData {
  id: string;
  to: Recipient[];
}

export function apiOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the gateway (default: PUBLIC_URL, or http://127.0.0.1:$PORT)')
    .addOption(new Option('--key <key>', 'API key').env('KEY'));
}

export function client(opts: ApiOptions) {
  const request = apiRequest(opts);
  return async function call(method: string, path: string, body?: unknown): Promise<MessageData> {
    const json = await request(method, path, body);
    if (!json.data) throw new CliError('the gateway answered without data');
    return json.data as MessageData;
  };
}

/** One API call: the whole JSON answer (`data`, `meta`), or a CliError naming the Telnyx errors. */
export function apiRequest(opts: ApiOptions) {
  let base = opts.url;
  if (!base) {
    const config = loadConfig();
    const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host;
    base = config.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  }
  if (!opts.key) throw new CliError('an API key is needed: --key KEY… or export KEY=KEY…');
  const headers = { authorization: `Bearer ${opts.key}`, 'content-type': 'application/json' };
  return async function request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ data?: unknown; meta?: Record<string, unknown> }> {
    const res = await fetch(`${base.replace(/\/+$/, '')}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer: unknown = await res.json().catch(() => ({}));
    const json = (answer !== null && typeof answer === 'object' ? answer : {}) as {
      data?: unknown;
      meta?: Record<string, unknown>;
      errors?: Array<{
        code: string;
        title: string;
        detail?: string;
        source?: { pointer?: string; parameter?: string };
      }>;
    };
    if (!res.ok || !('data' in json)) {
      const errors = (json.errors ?? []).map((e) => {
        const where = e.source?.pointer ?? e.source?.parameter;
        return `${e.code} ${e.detail ?? e.title}${where ? ` (${where})` : ''}`;
      });
      throw new CliError(`HTTP ${res.status}: ${errors.join('; ') || 'no details'}`);
    }
    return json;
  };
}

async function waitFinal(
  call: ReturnType<typeof client>,
  id: string,
  timeoutMs: number,
): Promise<MessageData> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const message = await call('GET', `/v2/messages/${id}`);
    if (message.to.every((r) => isFinalStatus(r.status))) return message;
    if (Date.now() > deadline) throw new CliError(`message ${id} not final after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function describeRecipients(message: MessageData): string {
  return table(
    message.to.map((r) => [
      r.phone_number,
      r.status,
      r.errors?.[0] ? `${r.errors[0].code} ${r.errors[0].title}` : '',
    ]),
  );
}

function progress(done: number, total: number): void {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`);
}

interface SendOptions extends ApiOptions {
  from?: string;
  to?: string[];
  text?: string;
  mediaUrl?: string[];
  webhookUrl?: string;
  wait?: boolean;
  timeout: string;
  csv?: string;
  concurrency: string;
  json?: boolean;
}

async function sendCsv(call: ReturnType<typeof client>, opts: SendOptions): Promise<void> {
  const rows = parseCsv(fs.readFileSync(opts.csv!, 'utf8'));
  const results: Array<{ row: number; id?: string; error?: string }> = [];
  let next = 0;
  progress(0, rows.length);
  const worker = async () => {
    while (next < rows.length) {
      const index = next++;
      const row = rows[index]!;
      try {
        const from = row.from || opts.from;
        if (!from) throw new CliError('no from (column or --from)');
        const media = (row.media_url ?? '').split(/\s+/).filter(Boolean);
        const sent = await call('POST', '/v2/messages/group_mms', {
          from,
          to: (row.to ?? '').split(/[;\s]+/).filter(Boolean),
          ...(row.text ? { text: row.text } : {}),
          ...(media.length > 0 ? { media_urls: media } : {}),
          ...(opts.webhookUrl ? { webhook_url: opts.webhookUrl } : {}),
        });
        results.push({ row: index + 1, id: sent.id });
      } catch (err) {
        results.push({ row: index + 1, error: (err as Error).message });
      }
      progress(results.length, rows.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Number(opts.concurrency)) }, worker));
  process.stderr.write('\n');
  const failed = results.filter((r) => r.error).sort((a, b) => a.row - b.row);
  const summary = { rows: rows.length, accepted: rows.length - failed.length, failed: failed.length };
  output(
    Boolean(opts.json),
    { ...summary, errors: failed },
    [
      `${summary.accepted} of ${summary.rows} rows accepted, ${summary.failed} failed`,
      ...failed.map((f) => `  row ${f.row}: ${f.error}`),
    ].join('\n'),
  );
  if (failed.length > 0) process.exitCode = 1;
}

export function registerMessageCommands(program: Command): void {
  apiOptions(
    program
      .command('send')
      .description('send a group MMS through a running gateway, or one per row of a CSV file (--csv)')
      .option('--from <+E164>', 'sender number (or a from column in the CSV)')
      .option('--to <+E164...>', 'recipients')
      .option('--text <text>', 'message text')
      .option('--media-url <url...>', 'media URLs')
      .option('--webhook-url <url>', 'webhook URL for the message(s)')
      .option('--wait', "wait for every recipient's final status and print it")
      .option('--timeout <ms>', 'how long --wait waits', '120000')
      .option('--csv <file>', 'send one message per row: columns to (";"-separated), text, media_url, from')
      .option('--concurrency <n>', 'requests in flight with --csv', '4')
      .option('--json', 'print JSON'),
  ).action(
    run(async (opts: SendOptions) => {
      const call = client(opts);
      if (opts.csv) return sendCsv(call, opts);
      if (!opts.from || !opts.to?.length) throw new CliError('--from and --to are required (or --csv FILE)');
      const sent = await call('POST', '/v2/messages/group_mms', {
        from: opts.from,
        to: opts.to,
        ...(opts.text ? { text: opts.text } : {}),
        ...(opts.mediaUrl?.length ? { media_urls: opts.mediaUrl } : {}),
        ...(opts.webhookUrl ? { webhook_url: opts.webhookUrl } : {}),
      });
      const message = opts.wait ? await waitFinal(call, sent.id, Number(opts.timeout)) : sent;
      output(Boolean(opts.json), message, `${message.id}\n${describeRecipients(message)}`);
      if (opts.wait && message.to.some((r) => r.status !== 'delivered')) process.exitCode = 2;
    }),
  );

  const messages = program.command('messages').description('read messages, wait for them');
  apiOptions(
    messages
      .command('get <id>')
      .description('a message and each recipient status (group id or a recipient id)')
      .option('--json', 'print JSON'),
  ).action(
    run(async (id: string, opts: ApiOptions & { json?: boolean }) => {
      const message = await client(opts)('GET', `/v2/messages/${encodeURIComponent(id)}`);
      output(Boolean(opts.json), message, `${message.id}\n${describeRecipients(message)}`);
    }),
  );

  apiOptions(
    messages
      .command('wait <id>')
      .description(
        'wait until a message (group id or a recipient id), or one of its recipients, has a final status (sandbox)',
      )
      .option('--recipient <+E164>', 'wait for this recipient only')
      .option('--timeout <ms>', 'give up after this long (exit code 2)', '30000')
      .option('--json', 'print JSON: {data, meta: {timed_out}}'),
  ).action(
    run(async (id: string, opts: ApiOptions & { recipient?: string; timeout: string; json?: boolean }) => {
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new CliError('--timeout must be milliseconds');
      const request = apiRequest(opts);
      const deadline = Date.now() + timeoutMs;
      // The server bounds one wait (below its idle timeout): a longer --timeout asks again.
      for (;;) {
        const chunk = Math.max(0, Math.min(WAIT_CHUNK_MS, deadline - Date.now()));
        const query = new URLSearchParams({ timeout_ms: String(chunk) });
        if (opts.recipient) query.set('recipient', opts.recipient);
        const answer = await request('GET', `/v2/simulator/messages/${encodeURIComponent(id)}/wait?${query}`);
        const timedOut = answer.meta?.timed_out === true;
        if (timedOut && Date.now() < deadline) continue;
        const message = answer.data as MessageData;
        output(
          Boolean(opts.json),
          { data: message, meta: { timed_out: timedOut } },
          `${message.id}${timedOut ? ` (not final after ${timeoutMs} ms)` : ''}\n${describeRecipients(message)}`,
        );
        if (timedOut) process.exitCode = 2;
        return;
      }
    }),
  );

  apiOptions(
    messages
      .command('latest')
      .description(
        'the newest inbound message to one of your numbers, waiting for one if there is none yet (sandbox)',
      )
      .requiredOption('--to <+E164>', 'your number')
      .option('--from <+E164>', 'only from this number')
      .option('--since <ISO time>', 'only received at or after this time')
      .option('--timeout <ms>', 'how long to wait for one (exit code 2 if none came)', '10000')
      .option('--json', 'print JSON: {data, meta: {timed_out}}'),
  ).action(
    run(
      async (
        opts: ApiOptions & { to: string; from?: string; since?: string; timeout: string; json?: boolean },
      ) => {
        const timeoutMs = Number(opts.timeout);
        if (!Number.isInteger(timeoutMs) || timeoutMs < 0)
          throw new CliError('--timeout must be milliseconds');
        const request = apiRequest(opts);
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const chunk = Math.max(0, Math.min(WAIT_CHUNK_MS, deadline - Date.now()));
          const query = new URLSearchParams({ to: opts.to, timeout_ms: String(chunk) });
          if (opts.from) query.set('from', opts.from);
          if (opts.since) query.set('since', opts.since);
          const answer = await request('GET', `/v2/simulator/messages/latest?${query}`);
          const timedOut = answer.meta?.timed_out === true;
          if (timedOut && Date.now() < deadline) continue;
          const m = answer.data as { id: string; from: { phone_number: string }; text: string | null } | null;
          output(
            Boolean(opts.json),
            { data: m, meta: { timed_out: timedOut } },
            m
              ? `${m.id}\n${m.from.phone_number}: ${m.text ?? ''}`
              : `no message to ${opts.to} within ${timeoutMs} ms`,
          );
          if (!m) process.exitCode = 2;
          return;
        }
      },
    ),
  );
}

/** The longest single wait the CLI asks a gateway for (below the default idle timeout). */
const WAIT_CHUNK_MS = 20_000;
