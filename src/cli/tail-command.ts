import type { Command } from 'commander';
import { isFinalStatus } from '../messages/status.ts';
import type { RecipientActivity } from '../store/sql/messages.ts';
import type { Store } from '../store/store.ts';
import { run, withStore } from './command-kit.ts';

interface TailOptions {
  message?: string;
  number?: string;
  type?: string;
  org?: string;
  json?: boolean;
  intervalMs: string;
}

/** The event a status change corresponds to, named as Telnyx names its webhooks. */
function eventType(status: RecipientActivity['status']): string {
  if (status === 'sent') return 'message.sent';
  if (isFinalStatus(status)) return 'message.finalized';
  return `message.${status}`;
}

function matches(a: RecipientActivity, opts: TailOptions): boolean {
  return (
    (!opts.message || a.message_id === opts.message || a.recipient_id === opts.message) &&
    (!opts.number || a.phone_number === opts.number || a.from_number === opts.number) &&
    (!opts.type || eventType(a.status) === opts.type) &&
    (!opts.org || a.organization_id === opts.org)
  );
}

function print(a: RecipientActivity, json: boolean): void {
  const event = {
    event_type: eventType(a.status),
    occurred_at: a.updated_at,
    message_id: a.message_id,
    recipient_id: a.recipient_id,
    organization_id: a.organization_id,
    from: a.from_number,
    to: a.phone_number,
    status: a.status,
    errors: a.errors,
  };
  if (json) process.stdout.write(`${JSON.stringify(event)}\n`);
  else {
    const error = a.errors[0] ? `  ${a.errors[0].code} ${a.errors[0].title}` : '';
    process.stdout.write(
      `${a.updated_at}  ${event.event_type.padEnd(17)} ${a.status.padEnd(20)} ${a.from_number} → ${a.phone_number}  ${a.message_id}${error}\n`,
    );
  }
}

async function follow(store: Store, opts: TailOptions, stopped: () => boolean): Promise<void> {
  let cursor = { updatedAt: new Date().toISOString(), id: '' };
  const interval = Number(opts.intervalMs);
  process.stderr.write('following message events; Ctrl-C to stop\n');
  while (!stopped()) {
    const batch = await store.messages.activityAfter(cursor, 500);
    for (const a of batch) if (matches(a, opts)) print(a, Boolean(opts.json));
    const last = batch.at(-1);
    if (last) cursor = { updatedAt: last.updated_at, id: last.recipient_id };
    if (batch.length < 500) await new Promise((r) => setTimeout(r, interval));
  }
}

/** `tail`: follows recipients' status changes live, from the database every node writes to. */
export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('follow message events live (each recipient status change), until Ctrl-C')
    .option('--message <id>', 'only this message (group or recipient id)')
    .option('--number <+E164>', 'only messages from or to this number')
    .option('--type <event>', 'only this event type: message.sent, message.finalized, message.queued, …')
    .option('--org <id>', 'only this organization')
    .option('--json', 'one JSON object per line')
    .option('--interval-ms <ms>', 'how often to look for changes', '250')
    .action(
      run(async (opts: TailOptions) => {
        let stop = false;
        const onSignal = () => {
          stop = true;
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        await withStore((store) => follow(store, opts, () => stop));
      }),
    );
}
